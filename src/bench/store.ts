import { fraudThresholdsOf, type Config } from '../config';
import { detectBatch, type FraudFlag } from '../domain/fraud/detect';
import type { AccountStats } from '../domain/fraud/stats';
import { inAccountOrder, insertFlags, openReviews, saveAccountStats } from '../store/fraud';
import { createPool, inTransaction } from '../store/pool';
import { loadFraudModel } from '../worker/fraud';
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

/** What fraud detection writes for a chunk: its accounts' statistics, its flags, the reviews it opens. */
interface FraudWrites {
  stats: Map<string, AccountStats>;
  flags: FraudFlag[];
  reviews: FraudFlag[];
}

/**
 * Runs the worker's detection (same thresholds and model, statistics carried from chunk to chunk)
 * over each chunk's rows, before the clock starts, so the timed loop writes what the pipeline's
 * transactions write; no confirmed-fraud vectors and no stored round-trip legs (reads, not writes).
 */
function fraudWritesOf(config: Config, chunks: ReadonlyArray<RowChunk>): FraudWrites[] {
  if (!config.fraud.enabled) return chunks.map(() => ({ stats: new Map(), flags: [], reviews: [] }));
  const ctx = { thresholds: fraudThresholdsOf(config), model: loadFraudModel(config.fraud.modelPath), nearestFraud: () => null, storedTransfers: [] };
  const carried = new Map<string, AccountStats>();
  return chunks.map((chunk) => {
    const { flags, stats } = detectBatch(chunk.outcome.decisions.map((d) => d.event), carried, ctx);
    for (const [account, s] of stats) carried.set(account, s);
    const applied = new Set(chunk.outcome.decisions.filter((d) => d.status === 'applied').map((d) => d.event.id));
    const reviews = flags.filter((f) => !f.late && f.score >= config.fraud.reviewThreshold && applied.has(f.txId));
    return { stats, flags, reviews };
  });
}

/**
 * The physical limit of this box's store: the same rows as the pipeline writes, into the same
 * tables (transactions, balances, every rollup, and, with fraud detection on as in the pipeline,
 * account statistics, flags and reviews), one LOAD DATA + upserts per committed chunk — no Kafka,
 * no Temporal. Rows are generated and scored before the clock starts.
 */
export async function runStoreLimit(baseConfig: Config, options: StoreOptions, log: (line: string) => void): Promise<StoreResult> {
  const env = await createBenchEnv('store', { overrides: { 'log.level': baseConfig.log.level } });
  const pool = createPool(env.config, 'app', 1);
  try {
    const chunks: RowChunk[] = [
      ...rowChunks({ ...options, totalRows: options.rows, overdraftLimitMinor: BigInt(env.config.rules.overdraftLimitMinor) }),
    ];
    const fraud = fraudWritesOf(env.config, chunks);
    log(`bench store: ${options.rows} rows generated; loading in chunks of ${options.chunkRows}`);
    const timeline: Array<[number, number]> = [];
    const started = process.hrtime.bigint();
    for (const [i, chunk] of chunks.entries()) {
      const t0 = process.hrtime.bigint();
      const writes = fraud[i] as FraudWrites;
      await inTransaction(pool, async (conn) => {
        await loadRows(conn, 'transactions', chunk.tsv);
        await applyChunkEffects(conn, chunk.outcome);
        await saveAccountStats(conn, inAccountOrder(writes.stats));
        await insertFlags(conn, `bulk-${i}`, writes.flags);
        await openReviews(conn, writes.reviews);
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
