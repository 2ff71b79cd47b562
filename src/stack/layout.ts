import fs from 'node:fs';
import path from 'node:path';
import { Config, envVarOf } from '../config';
import { LedgerflowError } from '../domain/errors';

export type ServiceName = 'kafka' | 'temporal' | 'mariadb' | 'prometheus' | 'otelcol' | 'jaeger';

/** Start order when nothing else decides it; also the order of `status`. */
export const SERVICE_NAMES: readonly ServiceName[] = ['kafka', 'temporal', 'mariadb', 'prometheus', 'otelcol', 'jaeger'];

/**
 * What `stack up` starts when no service is named. The OpenTelemetry Collector and Jaeger start on
 * request (`stack up otelcol jaeger`): their first build takes minutes (docs/observability.md).
 */
export const DEFAULT_SERVICES: readonly ServiceName[] = ['kafka', 'temporal', 'mariadb', 'prometheus'];

/**
 * 'plain': the default stack. 'secure': its own instance beside it (own directory and ports) whose
 * Kafka, MariaDB and Temporal accept only authenticated, encrypted clients (docs/security.md).
 */
export type StackProfile = 'plain' | 'secure';

/** The secure profile has no Prometheus: it exists to prove the pipeline's secured connections. */
export function profileServices(profile: StackProfile): readonly ServiceName[] {
  return profile === 'secure' ? ['kafka', 'temporal', 'mariadb'] : SERVICE_NAMES;
}

/** What `stack up` starts in a profile when no service is named (the plain one: DEFAULT_SERVICES). */
export function profileDefaults(profile: StackProfile): readonly ServiceName[] {
  return profile === 'secure' ? profileServices('secure') : DEFAULT_SERVICES;
}

/** The secure profile's ports sit this far above the plain ones, so both stacks run side by side. */
export const SECURE_PORT_OFFSET = 100;

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

/** The secure profile lives beside the plain stack: <stack.dir>-secure. */
export function stackLayout(config: Config, profile: StackProfile = 'plain'): StackLayout {
  const root = path.resolve(config.stack.dir) + (profile === 'secure' ? '-secure' : '');
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
export function stackPorts(config: Config, profile: StackProfile = 'plain'): StackPorts {
  const shift = profile === 'secure' ? SECURE_PORT_OFFSET : 0;
  const kafka = portOf(config.kafka.brokers[0] ?? '', 'kafka.brokers') + shift;
  const temporal = portOf(config.temporal.address, 'temporal.address') + shift;
  return {
    kafka,
    kafkaController: kafka + 1,
    temporal,
    temporalUi: temporal + 1000,
    temporalMetrics: temporal + 1001,
    mariadb: config.db.port + shift,
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
