import type { FraudFlag } from '../domain/fraud/detect';
import type { TransferLeg } from '../domain/fraud/rules';
import { parseStats, type AccountStats } from '../domain/fraud/stats';
import { encodeStats, StatsMemo } from '../domain/fraud/statsCodec';
import { chunks, IN_LIST_MAX, ROWS_PER_STATEMENT } from './ledger';
import { escape } from 'mysql2';
import type { Connection, Pool } from './pool';
import { fromDbDateTime, toDbDateTime } from './pool';

/** Fraud detection's rows: account statistics, flags, review queue entries, fraud vectors. */

/**
 * Accounts whose last stored statistics this process remembers with their bytes (StatsMemo): one
 * worker applies most batches of the accounts it saw last, so most rows read back are the bytes
 * it wrote and need no decoding. About 15 MB at the bound.
 */
const STATS_MEMO_MAX = 20_000;
const statsMemo = new StatsMemo(STATS_MEMO_MAX);

/**
 * Locks (FOR UPDATE, in the given sorted order) and reads the statistics of the accounts. The
 * chunks go out back to back on the connection (mysql2 queues them in order), so the lock order
 * holds and the client does not wait a round trip between them. Each chunk is below IN_LIST_MAX
 * accounts, so it reads (and locks) only its own rows: at 2,000 a chunk scanned and locked the
 * whole table, row by row, waiting on every row another batch held (docs/decisions/015-lock-reads-and-load-generator.md). A row not yet
 * rewritten since migration 004 has no binary `stats` and is read from its JSON `state`; the
 * others do not send their (empty) `state` (docs/decisions/030-fraud-cpu-per-event.md).
 */
export async function lockAccountStats(conn: Connection, sortedAccounts: ReadonlyArray<string>): Promise<Map<string, AccountStats>> {
  const out = new Map<string, AccountStats>();
  const results = await Promise.all(
    chunks(sortedAccounts, IN_LIST_MAX).map((part) =>
      conn.query('SELECT account, stats, CASE WHEN stats IS NULL THEN state END AS state FROM account_stats WHERE account IN (?) ORDER BY account FOR UPDATE', [part]),
    ),
  );
  for (const [rows] of results) {
    for (const r of rows as Array<{ account: string; state: string | null; stats: Buffer | null }>) {
      out.set(r.account, r.stats ? statsMemo.decode(r.account, r.stats) : parseStats(r.account, r.state ?? ''));
    }
  }
  return out;
}

/** Statistics in account order, the order their rows are locked in. */
export function inAccountOrder(stats: ReadonlyMap<string, AccountStats>): AccountStats[] {
  return [...stats.values()].sort((a, b) => (a.account < b.account ? -1 : a.account > b.account ? 1 : 0));
}

/** `'YYYY-MM-DD HH:MM:SS.mmm'` (UTC): digits and separators only, nothing to escape. */
const dbDateTimeLiteral = (ms: number) => `'${toDbDateTime(new Date(ms).toISOString())}'`;

/**
 * Upserts the statistics in the compact binary form (migration 004); the JSON `state` is emptied.
 * Each row is rendered to SQL here (the account escaped, the bytes as a hex literal, numbers and a
 * UTC datetime as they are) rather than by the driver value by value: this runs for every account
 * of every batch (docs/decisions/030-fraud-cpu-per-event.md). `sorted`: in account order, the
 * order the rows were locked in.
 */
export async function saveAccountStats(conn: Connection, sorted: ReadonlyArray<AccountStats>): Promise<void> {
  await Promise.all(
    chunks(sorted, ROWS_PER_STATEMENT).map((part) => {
      const rows = part.map((s) => {
        const bytes = encodeStats(s);
        statsMemo.remember(s, bytes);
        return `(${escape(s.account)},'',X'${bytes.toString('hex')}',${Number(s.txCount)},${s.lastSeenMs === null ? 'NULL' : dbDateTimeLiteral(s.lastSeenMs)})`;
      });
      // Values null, not absent: the statement is complete, and mysql2 scans a statement given no
      // values for placeholders, character by character through every row's hex.
      return conn.query(
        `INSERT INTO account_stats (account, state, stats, tx_count, last_seen_at) VALUES ${rows.join(',')}
         ON DUPLICATE KEY UPDATE state = VALUES(state), stats = VALUES(stats), tx_count = VALUES(tx_count), last_seen_at = VALUES(last_seen_at)`,
        null,
      );
    }),
  );
}

interface LegRow {
  id: string;
  account: string;
  counterparty: string;
  amount_minor: string;
  occurred_at: string;
}

const toLeg = (r: LegRow): TransferLeg => ({ id: r.id, from: r.account, to: r.counterparty, amountMinor: String(r.amount_minor), occurredAtMs: Date.parse(fromDbDateTime(r.occurred_at)) });

/**
 * Stored transfers that could close a round trip with the batch's transfers u→v: legs v→w near
 * in time, then legs w→u. Two indexed queries per batch (account, occurred_at).
 */
export async function loadRoundTripLegs(conn: Connection, transfers: ReadonlyArray<TransferLeg>, windowS: number, minAmountMinor: number): Promise<TransferLeg[]> {
  if (transfers.length === 0) return [];
  const times = transfers.map((t) => t.occurredAtMs);
  const from = toDbDateTime(new Date(Math.min(...times) - windowS * 1000).toISOString());
  const to = toDbDateTime(new Date(Math.max(...times) + windowS * 1000).toISOString());
  const receivers = [...new Set(transfers.map((t) => t.to))];
  const senders = [...new Set(transfers.map((t) => t.from))];
  const sql = `SELECT id, account, counterparty, amount_minor, occurred_at FROM transactions
     WHERE account IN (?) AND counterparty IN (?) AND type = 'transfer' AND occurred_at BETWEEN ? AND ? AND amount_minor >= ?`;
  const [first] = await conn.query(sql.replace('AND counterparty IN (?) ', ''), [receivers, from, to, minAmountMinor]);
  const middle = (first as LegRow[]).filter((r) => r.counterparty !== null).map(toLeg);
  if (middle.length === 0) return [];
  const [second] = await conn.query(sql, [[...new Set(middle.map((l) => l.to))], senders, from, to, minAmountMinor]);
  return [...middle, ...(second as LegRow[]).map(toLeg)];
}

/** A flag row once: a replayed batch inserts nothing new, a late flag on an already-flagged leg keeps the first. */
export async function insertFlags(conn: Connection, batchId: string, flags: ReadonlyArray<FraudFlag>): Promise<void> {
  for (const part of chunks(flags, ROWS_PER_STATEMENT)) {
    const rows = part.map((f) => [
      f.txId,
      f.account,
      f.score.toFixed(4),
      f.detectors.join(',').slice(0, 255),
      JSON.stringify(f.reasons),
      f.embedding ? JSON.stringify(f.embedding.map((x) => Number(x.toFixed(6)))) : null,
      f.late ? 1 : 0,
      batchId,
    ]);
    // A replay keeps the first flag. The no-op assignment is to a column outside every key:
    // SingleStore refuses an upsert that assigns a unique key column of a columnstore table (decision 027).
    await conn.query(
      `INSERT INTO fraud_flags (tx_id, account, score, detectors, reasons, embedding, late, batch_id) VALUES ?
       ON DUPLICATE KEY UPDATE batch_id = batch_id`,
      [rows],
    );
  }
}

/** Opens a review (and its audit row) for each flagged transaction that needs a human; replays add nothing. */
export async function openReviews(conn: Connection, flags: ReadonlyArray<FraudFlag>): Promise<void> {
  for (const part of chunks(flags, ROWS_PER_STATEMENT)) {
    const [res] = await conn.query(
      'INSERT IGNORE INTO reviews (tx_id, account, score, status) VALUES ?',
      [part.map((f) => [f.txId, f.account, f.score.toFixed(4), 'open'])],
    );
    if ((res as { affectedRows: number }).affectedRows === 0) continue;
    await conn.query('INSERT INTO review_audit (tx_id, action, actor, reason) VALUES ?', [part.map((f) => [f.txId, 'opened', 'detector', f.detectors.join(',')])]);
  }
}

/** Undecided (open or escalated) reviews: the review queue's depth, one index range (ix_status_opened). */
export async function undecidedReviewCount(conn: Connection | Pool): Promise<number> {
  const [rows] = await conn.query("SELECT COUNT(*) AS n FROM reviews WHERE status IN ('open','escalated')");
  return Number((rows as Array<{ n: string | number }>)[0]?.n ?? 0);
}

/** Reviews of these transactions that are still undecided (their workflows must be running). */
export async function undecidedReviews(pool: Pool, txIds: ReadonlyArray<string>): Promise<Array<{ txId: string; account: string; score: number }>> {
  const out: Array<{ txId: string; account: string; score: number }> = [];
  for (const part of chunks(txIds, ROWS_PER_STATEMENT)) {
    const [rows] = await pool.query("SELECT tx_id, account, score FROM reviews WHERE tx_id IN (?) AND status IN ('open','escalated')", [part]);
    for (const r of rows as Array<{ tx_id: string; account: string; score: string }>) out.push({ txId: r.tx_id, account: r.account, score: Number(r.score) });
  }
  return out;
}

export interface FraudVectorRow {
  txId: string;
  embedding: number[];
}

/**
 * Confirmed-fraud vectors, for the worker's in-process index on both stores (MariaDB: JSON text;
 * SingleStore: VECTOR(6, F32), which it projects as a JSON array by default). SingleStore's
 * DOT_PRODUCT is not used: the detector is pure (src/domain/fraud) and asks for a neighbour
 * synchronously, and the in-process index answers in ~0.1 ms (docs/decisions/006).
 */
export async function loadFraudVectors(pool: Pool): Promise<FraudVectorRow[]> {
  const [rows] = await pool.query('SELECT tx_id, embedding FROM fraud_vectors ORDER BY created_at, tx_id');
  return (rows as Array<{ tx_id: string; embedding: string }>).map((r) => ({ txId: r.tx_id, embedding: JSON.parse(r.embedding) as number[] }));
}

export async function insertFraudVectors(pool: Pool | Connection, rows: ReadonlyArray<{ txId: string; account: string; embedding: number[] }>, source: 'review' | 'training'): Promise<void> {
  for (const part of chunks(rows, ROWS_PER_STATEMENT)) {
    await pool.query('INSERT IGNORE INTO fraud_vectors (tx_id, account, embedding, source) VALUES ?', [part.map((r) => [r.txId, r.account, JSON.stringify(r.embedding), source])]);
  }
}
