import { envVarOf, loadConfig, type ConfigOverrides } from '../config';
import { LedgerflowError } from '../domain/errors';
import { createScratchRun, type ScratchRun } from '../stack/scratch';
import { createPool } from '../store/pool';

/**
 * One benchmark run's own topic, DLQ, consumer group, task queue and database, so a run never
 * reads another run's data (or the demo's, or a test's) and can drop everything afterwards.
 */
export type BenchEnv = Omit<ScratchRun, 'overrides'>;

export interface BenchEnvOptions {
  /** Apply the real migrations to the run's database (off for a database given another schema). */
  migrate?: boolean;
  overrides?: ConfigOverrides;
}

export async function createBenchEnv(part: string, options: BenchEnvOptions = {}): Promise<BenchEnv> {
  return createScratchRun(
    `bench-${part}`,
    { 'consumer.httpPort': 0, 'worker.httpPort': 0, 'producer.httpPort': 0, 'api.port': 0, ...options.overrides },
    { topicPrefix: '', dbPrefix: 'lf_', ...(options.migrate === false ? { migrate: false } : {}) },
  );
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
