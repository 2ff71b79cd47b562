import { decideBatch, type LedgerOutcome } from '../domain/ledger';
import type { SourcedEvent } from '../domain/transaction';
import { applyAccountRollups, applyBalanceDeltas, applyRollups, transactionRowOf } from '../store/ledger';
import type { Connection } from '../store/pool';
import { tsvOf } from '../store/load';
import { workloadEvents, type Workload } from './workload';

/**
 * Synthetic rows for bulk loads: the producer's own generator (same accounts, amounts, types and
 * skew as the pipeline sees), decided by the same pure ledger rules, rendered as LOAD DATA text.
 */
export interface RowChunk {
  /** Tab-separated rows of `transactions`, in TRANSACTION_COLUMNS order (src/store/load.ts). */
  tsv: Buffer;
  rows: number;
  outcome: LedgerOutcome;
  events: SourcedEvent[];
}

export interface ChunkSourceOptions {
  accounts: number;
  seed: number;
  chunkRows: number;
  totalRows: number;
  overdraftLimitMinor: bigint;
  /** Spread occurred_at evenly over [startMs, endMs) instead of "now" (query benchmarks; random workload only). */
  timeSpan?: { startMs: number; endMs: number };
  /** The traffic (default `random`); see workload.ts. */
  workload?: Workload;
}

/** Yields chunks of decided rows; balances carry over between chunks as the pipeline's would. */
export function* rowChunks(options: ChunkSourceOptions): Generator<RowChunk> {
  const span = options.timeSpan;
  const stepMs = span ? (span.endMs - span.startMs) / options.totalRows : 0;
  let offset = 0;
  const occurredAt = span ? () => new Date(Math.floor(span.startMs + offset * stepMs)).toISOString() : undefined;
  const next = workloadEvents(options.workload ?? 'random', { accounts: options.accounts, seed: options.seed, ...(occurredAt ? { occurredAt } : {}) });
  const balances = new Map<string, bigint>();
  for (let done = 0; done < options.totalRows; ) {
    const size = Math.min(options.chunkRows, options.totalRows - done);
    const events: SourcedEvent[] = [];
    for (let i = 0; i < size; i++) {
      offset = done + i;
      events.push(Object.assign(next(), { partition: 0, offset: String(offset) }));
    }
    const outcome = decideBatch(events, new Map(), balances, options.overdraftLimitMinor);
    for (const [key, delta] of outcome.balanceDeltas) balances.set(key, (balances.get(key) ?? 0n) + delta);
    const batchId = `bulk-${done}`;
    yield { tsv: tsvOf(outcome.decisions.map((d) => transactionRowOf(d, batchId))), rows: size, outcome, events };
    done += size;
  }
}

/** The writes applyBatch makes besides the rows, for a chunk: balances and every rollup grain. */
export async function applyChunkEffects(conn: Connection, outcome: Pick<LedgerOutcome, 'balanceDeltas' | 'rollups' | 'accountDays'>): Promise<void> {
  await applyBalanceDeltas(conn, outcome.balanceDeltas);
  await applyRollups(conn, outcome.rollups);
  await applyAccountRollups(conn, outcome.accountDays);
}
