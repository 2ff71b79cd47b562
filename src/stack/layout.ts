import fs from 'node:fs';
import path from 'node:path';
import { Config, envVarOf } from '../config';
import { LedgerflowError } from '../domain/errors';

export type ServiceName = 'kafka' | 'temporal' | 'mariadb' | 'prometheus';

/** Start order when nothing else decides it; also the order of `status`. */
export const SERVICE_NAMES: readonly ServiceName[] = ['kafka', 'temporal', 'mariadb', 'prometheus'];

/**
 * Loopback: where the pipeline's own processes are scraped and the 3-broker profile binds. The
 * stack's services bind stack.host, loopback too unless the stack runs inside the cluster's node
 * (`ledgerflow cluster deps`): the stack is a dev tool, never reachable from outside.
 */
export const STACK_HOST = '127.0.0.1';

/** Where everything of the local stack lives; all paths absolute. */
export interface StackLayout {
  root: string;
  logs: string;
  run: string;
  secrets: string;
  logFile(service: ServiceName): string;
  pidFile(service: ServiceName): string;
  installLogFile(component: string): string;
}

export function stackLayout(config: Config): StackLayout {
  const root = path.resolve(config.stack.dir);
  const logs = path.join(root, 'logs');
  const run = path.join(root, 'run');
  return {
    root,
    logs,
    run,
    secrets: path.join(root, 'secrets'),
    logFile: (service) => path.join(logs, `${service}.log`),
    pidFile: (service) => path.join(run, `${service}.pid`),
    installLogFile: (component) => path.join(logs, `install-${component}.log`),
  };
}

/** A port a service binds, with the setting that moves it (for LF_PORT_TAKEN messages). */
export interface ServicePort {
  port: number;
  role: string;
  setting?: string;
}

export interface StackPorts {
  kafka: number;
  kafkaController: number;
  temporal: number;
  temporalUi: number;
  temporalMetrics: number;
  mariadb: number;
  prometheus: number;
}

/**
 * Ports come from the settings the pipeline uses to reach the services, so `stack up` and the
 * clients can never disagree. Secondary ports sit at fixed offsets (Temporal's own convention:
 * UI = frontend + 1000).
 */
export function stackPorts(config: Config): StackPorts {
  const kafka = portOf(config.kafka.brokers[0] ?? '', 'kafka.brokers');
  const temporal = portOf(config.temporal.address, 'temporal.address');
  return {
    kafka,
    kafkaController: kafka + 1,
    temporal,
    temporalUi: temporal + 1000,
    temporalMetrics: temporal + 1001,
    mariadb: config.db.port,
    prometheus: config.stack.prometheusPort,
  };
}

function portOf(address: string, setting: string): number {
  const port = Number(/:(\d{1,5})$/.exec(address)?.[1]);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new LedgerflowError('LF_CONFIG', `${setting} (${envVarOf(setting)}) has no usable port in "${address}"`, setting);
  }
  return port;
}

/** "kafka.brokers (LF_KAFKA_BROKERS)": what an operator changes to move a port. */
export function settingLabel(setting: string): string {
  const env = envVarOf(setting);
  return env ? `${setting} (${env})` : setting;
}

export function ensureDir(dir: string, mode = 0o755): string {
  fs.mkdirSync(dir, { recursive: true, mode });
  return dir;
}

/** Writes only when the content changed; returns whether it did (callers reload on change). */
export function writeFileIfChanged(file: string, content: string, mode = 0o644): boolean {
  try {
    if (fs.readFileSync(file, 'utf8') === content) return false;
  } catch {
    // absent: write it below
  }
  ensureDir(path.dirname(file));
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, content, { mode });
  fs.renameSync(tmp, file);
  return true;
}

/**
 * The repository root (holds package.json), found from this file so it works from src/ and dist/src/;
 * dist/ itself is skipped because tsc may copy package.json there.
 */
export function repoRoot(): string {
  let dir = __dirname;
  for (;;) {
    if (path.basename(dir) !== 'dist' && fs.existsSync(path.join(dir, 'package.json'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) return process.cwd();
    dir = parent;
  }
}
