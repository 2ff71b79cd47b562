import type { Config } from '../config';
import { createPool, inTransaction } from '../store/pool';
import { loadRows } from '../store/load';
import { applyChunkEffects, rowChunks, type RowChunk } from './bulk';
import { createBenchEnv } from './env';
import { lineChart } from './svg';
import type { Workload } from './workload';
import { round } from './stats';

export interface StoreOptions {
  rows: number;
  chunkRows: number;
  accounts: number;
  seed: number;
  workload: Workload;
}

export interface StoreResult {
  rows: number;
  rowsStored: number;
  loadMs: number;
  txPerSec: number;
  /** [seconds since start, rows/s of that chunk] per chunk. */
  timeline: Array<[number, number]>;
}

/**
 * The physical limit of this box's store: the same rows as the pipeline writes, into the same
 * tables (transactions, balances, every rollup), one LOAD DATA + balance and rollup upserts per
 * committed chunk — no Kafka, no Temporal. Rows are generated before the clock starts.
 */
export async function runStoreLimit(baseConfig: Config, options: StoreOptions, log: (line: string) => void): Promise<StoreResult> {
  const env = await createBenchEnv('store', { overrides: { 'log.level': baseConfig.log.level } });
  const pool = createPool(env.config, 'app', 1);
  try {
    const chunks: RowChunk[] = [
      ...rowChunks({ ...options, totalRows: options.rows, overdraftLimitMinor: BigInt(env.config.rules.overdraftLimitMinor) }),
    ];
    log(`bench store: ${options.rows} rows generated; loading in chunks of ${options.chunkRows}`);
    const timeline: Array<[number, number]> = [];
    const started = process.hrtime.bigint();
    for (const chunk of chunks) {
      const t0 = process.hrtime.bigint();
      await inTransaction(pool, async (conn) => {
        await loadRows(conn, 'transactions', chunk.tsv);
        await applyChunkEffects(conn, chunk.outcome);
      });
      const t1 = process.hrtime.bigint();
      timeline.push([round(Number(t1 - started) / 1e9), round(chunk.rows / (Number(t1 - t0) / 1e9), 0)]);
    }
    const loadMs = Number(process.hrtime.bigint() - started) / 1e6;
    const [count] = await pool.query('SELECT COUNT(*) AS n FROM transactions');
    const rowsStored = Number((count as Array<{ n: string }>)[0]?.n ?? 0);
    const txPerSec = round(rowsStored / (loadMs / 1000), 0);
    log(`bench store: ${rowsStored} rows in ${round(loadMs / 1000)} s = ${txPerSec} tx/s`);
    return { rows: options.rows, rowsStored, loadMs: round(loadMs), txPerSec, timeline };
  } finally {
    await pool.end();
    await env.dispose();
  }
}

export function storeChart(r: StoreResult): string {
  return lineChart(`Store limit: LOAD DATA + upserts, ${r.txPerSec} tx/s overall`, 'seconds', 'rows/s per chunk', [{ name: 'store limit', points: r.timeline }]);
}
