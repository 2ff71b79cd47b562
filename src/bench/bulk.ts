import { Readable } from 'node:stream';
import { escapeId } from 'mysql2';
import { decideBatch, type LedgerOutcome } from '../domain/ledger';
import type { SourcedEvent } from '../domain/transaction';
import { createGenerator } from '../producer/generator';
import type { Connection } from '../store/pool';
import { toDbDateTime } from '../store/pool';

/**
 * Synthetic rows for bulk loads: the producer's own generator (same accounts, amounts, types and
 * skew as the pipeline sees), decided by the same pure ledger rules, rendered as LOAD DATA text.
 */
export interface RowChunk {
  /** Tab-separated rows of `transactions`, in LOAD_COLUMNS order. */
  tsv: Buffer;
  rows: number;
  outcome: LedgerOutcome;
  events: SourcedEvent[];
}

export const LOAD_COLUMNS = [
  'id',
  'account',
  'counterparty',
  'type',
  'amount_minor',
  'currency',
  'status',
  'reason',
  'description',
  'occurred_at',
  'source_partition',
  'source_offset',
  'batch_id',
] as const;

export interface ChunkSourceOptions {
  accounts: number;
  seed: number;
  chunkRows: number;
  totalRows: number;
  overdraftLimitMinor: bigint;
  /** Spread occurred_at evenly over [startMs, endMs) instead of "now" (query benchmarks). */
  timeSpan?: { startMs: number; endMs: number };
}

function field(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '\\N';
  return String(value).replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n');
}

/** Yields chunks of decided rows; balances carry over between chunks as the pipeline's would. */
export function* rowChunks(options: ChunkSourceOptions): Generator<RowChunk> {
  const next = createGenerator({ accounts: options.accounts, seed: options.seed, malformedRatio: 0 });
  const balances = new Map<string, bigint>();
  const span = options.timeSpan;
  const stepMs = span ? (span.endMs - span.startMs) / options.totalRows : 0;
  for (let done = 0; done < options.totalRows; ) {
    const size = Math.min(options.chunkRows, options.totalRows - done);
    const events: SourcedEvent[] = [];
    for (let i = 0; i < size; i++) {
      const event = next().event as SourcedEvent;
      const offset = done + i;
      if (span) event.occurredAt = new Date(Math.floor(span.startMs + offset * stepMs)).toISOString();
      events.push({ ...event, partition: 0, offset: String(offset) });
    }
    const outcome = decideBatch(events, new Map(), balances, options.overdraftLimitMinor);
    for (const [key, delta] of outcome.balanceDeltas) balances.set(key, (balances.get(key) ?? 0n) + delta);
    const batchId = `bulk-${done}`;
    const lines = outcome.decisions.map(({ event: e, status, reason }) =>
      [e.id, e.account, e.counterparty, e.type, e.amountMinor, e.currency, status, reason, e.description, toDbDateTime(e.occurredAt), e.partition, e.offset, batchId]
        .map(field)
        .join('\t'),
    );
    yield { tsv: Buffer.from(`${lines.join('\n')}\n`), rows: size, outcome, events };
    done += size;
  }
}

/**
 * LOAD DATA LOCAL INFILE of one chunk's rows into `table`. Columns are LOAD_COLUMNS by default; a
 * column written `@name` is read into a variable, for `set` (a constant expression) to use.
 */
export async function loadRows(conn: Connection, table: string, tsv: Buffer, columns: ReadonlyArray<string> = LOAD_COLUMNS, set = ''): Promise<void> {
  const list = columns.map((c) => (c.startsWith('@') ? c : escapeId(c))).join(', ');
  await conn.query({
    sql: `LOAD DATA LOCAL INFILE 'chunk.tsv' INTO TABLE ${escapeId(table)} CHARACTER SET utf8mb4 FIELDS TERMINATED BY '\\t' LINES TERMINATED BY '\\n' (${list})${set ? ` SET ${set}` : ''}`,
    infileStreamFactory: () => Readable.from([tsv]),
  });
}
