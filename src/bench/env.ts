import { randomBytes } from 'node:crypto';
import { envVarOf, loadConfig, type Config, type ConfigOverrides } from '../config';
import { LedgerflowError } from '../domain/errors';
import { createKafka } from '../kafka/client';
import { stackUp } from '../stack';
import { migrate } from '../store/migrate';
import { createPool } from '../store/pool';

/**
 * One benchmark run's own topic, DLQ, consumer group, task queue and database, so a run never
 * reads another run's data (or the demo's, or a test's) and can drop everything afterwards.
 */
export interface BenchEnv {
  runId: string;
  config: Config;
  /** LF_* variables that make a child `ledgerflow` process use this run's names. */
  childEnv(extra?: ConfigOverrides): NodeJS.ProcessEnv;
  dispose(): Promise<void>;
}

export interface BenchEnvOptions {
  /** Apply the real migrations to the run's database (off for a database given another schema). */
  migrate?: boolean;
  overrides?: ConfigOverrides;
}

export async function createBenchEnv(part: string, options: BenchEnvOptions = {}): Promise<BenchEnv> {
  const runId = `bench-${part}-${Date.now().toString(36)}-${randomBytes(2).toString('hex')}`;
  const overrides: ConfigOverrides = {
    'kafka.topic': runId,
    'kafka.dlqTopic': `${runId}.dlq`,
    'kafka.groupId': runId,
    'temporal.taskQueue': runId,
    'db.name': `lf_${runId.replace(/-/g, '_')}`.slice(0, 64),
    'consumer.httpPort': 0,
    'worker.httpPort': 0,
    'producer.httpPort': 0,
    'api.port': 0,
    ...options.overrides,
  };
  const config = loadConfig(overrides);
  // Idempotent: starts what is not running and creates this run's database and its grants.
  await stackUp(loadConfig({ 'db.name': config.db.name }), { log: () => undefined });
  if (options.migrate !== false) await migrate(config);
  return {
    runId,
    config,
    childEnv: (extra = {}) => {
      const env: NodeJS.ProcessEnv = { ...process.env };
      for (const [key, value] of Object.entries({ ...overrides, ...extra })) env[envVarOf(key) as string] = String(value);
      return env;
    },
    dispose: async () => {
      const pool = createPool(config, 'migrate', 1);
      await pool.query('DROP DATABASE IF EXISTS ??', [config.db.name]).finally(() => pool.end());
      const admin = createKafka(config, 'bench-cleanup').admin();
      await admin.connect();
      try {
        const existing = new Set(await admin.listTopics());
        const topics = [config.kafka.topic, config.kafka.dlqTopic].filter((t) => existing.has(t));
        if (topics.length > 0) await admin.deleteTopics({ topics });
      } finally {
        await admin.disconnect();
      }
    },
  };
}

/** Name prefix of every benchmark database: only such databases may be attached and dropped. */
export const BENCH_DB_PREFIX = 'lf_bench_';

/**
 * A benchmark database left by an earlier run (e.g. `queries --keep`), attached by name so its
 * rows are timed without loading them again; dispose() drops it.
 */
export function attachBenchEnv(dbName: string, base: ConfigOverrides = {}): BenchEnv {
  if (!dbName.startsWith(BENCH_DB_PREFIX)) throw new LedgerflowError('LF_CONFIG', `only ${BENCH_DB_PREFIX}* databases can be reused, got ${dbName}`, dbName);
  const config = loadConfig({ ...base, 'db.name': dbName });
  return {
    runId: dbName,
    config,
    childEnv: () => ({ ...process.env, [envVarOf('db.name') as string]: dbName }),
    dispose: async () => {
      const pool = createPool(config, 'migrate', 1);
      await pool.query('DROP DATABASE IF EXISTS ??', [dbName]).finally(() => pool.end());
    },
  };
}
