import type { Connection, Pool } from './pool';
import { fromDbDateTime } from './pool';

/**
 * Parked events: events the store refused for a lasting reason that is not a business rule
 * (docs/decisions/020-poison-isolation.md), kept with their original bytes until an operator
 * fixes the cause and replays them (`ledgerflow parked replay`). Keyed by where they came from,
 * so parking the same event again (a retried attempt) changes only the latest error.
 */
export interface ParkedEventInput {
  topic: string;
  partition: number;
  offset: string;
  txId: string;
  account: string;
  batchId: string;
  code: string;
  errno: number | null;
  reason: string;
  /** The Kafka message value as produced. */
  payload: Buffer;
  /** False when the bytes were rendered again from the event (a batch from before decision 012). */
  payloadExact: boolean;
}

export interface ParkedEvent extends Omit<ParkedEventInput, 'payload'> {
  /** "<partition>:<offset>" on the configured topic: what `ledgerflow parked show|replay` take. */
  id: string;
  payload: string;
  parkedAt: string;
  replayCount: number;
  replayedAt: string | null;
  /** The event's id is stored in `transactions` now (replayed, or its batch ran again after the fix). */
  resolved: boolean;
}

export function parkedId(partition: number, offset: string): string {
  return `${partition}:${offset}`;
}

/** "<partition>:<offset>" → its parts, or null when it is not one. */
export function parseParkedId(id: string): { partition: number; offset: string } | null {
  const m = /^(\d{1,9}):(\d{1,19})$/.exec(id);
  return m ? { partition: Number(m[1]), offset: m[2] as string } : null;
}

/** Parks events (their own transaction, or the batch's). A second park of the same source updates the error only. */
export async function parkEvents(conn: Connection | Pool, events: ReadonlyArray<ParkedEventInput>): Promise<void> {
  if (events.length === 0) return;
  const rows = events.map((e) => [e.topic, e.partition, e.offset, e.txId, e.account, e.batchId, e.code.slice(0, 64), e.errno, e.reason.slice(0, 1000), e.payload, e.payloadExact ? 1 : 0]);
  await conn.query(
    `INSERT INTO parked_events (source_topic, source_partition, source_offset, tx_id, account, batch_id, error_code, errno, reason, payload, payload_exact) VALUES ?
     ON DUPLICATE KEY UPDATE batch_id = VALUES(batch_id), error_code = VALUES(error_code), errno = VALUES(errno), reason = VALUES(reason)`,
    [rows],
  );
}

interface ParkedRow {
  source_topic: string;
  source_partition: number;
  source_offset: string;
  tx_id: string;
  account: string;
  batch_id: string;
  error_code: string;
  errno: number | null;
  reason: string;
  payload: Buffer;
  payload_exact: number;
  parked_at: string;
  replay_count: number;
  replayed_at: string | null;
  stored: number;
}

const SELECT = `SELECT p.source_topic, p.source_partition, p.source_offset, p.tx_id, p.account, p.batch_id, p.error_code, p.errno, p.reason,
    p.payload, p.payload_exact, p.parked_at, p.replay_count, p.replayed_at,
    EXISTS (SELECT 1 FROM transactions t WHERE t.id = p.tx_id) AS stored
  FROM parked_events p`;

const toParked = (r: ParkedRow): ParkedEvent => ({
  id: parkedId(r.source_partition, String(r.source_offset)),
  topic: r.source_topic,
  partition: r.source_partition,
  offset: String(r.source_offset),
  txId: r.tx_id,
  account: r.account,
  batchId: r.batch_id,
  code: r.error_code,
  errno: r.errno,
  reason: r.reason,
  payload: Buffer.from(r.payload).toString('utf8'),
  payloadExact: Number(r.payload_exact) === 1,
  parkedAt: fromDbDateTime(r.parked_at),
  replayCount: Number(r.replay_count),
  replayedAt: r.replayed_at ? fromDbDateTime(r.replayed_at) : null,
  resolved: Number(r.stored) === 1,
});

export interface ParkedCursor {
  parkedAt: string;
  partition: number;
  offset: string;
}

/**
 * Parked events of a topic, oldest first, keyset-paged; `unresolved` keeps only those whose id is
 * not stored yet (what still needs an operator).
 */
export async function listParked(pool: Pool, topic: string, options: { limit: number; unresolved?: boolean; after?: ParkedCursor }): Promise<{ items: ParkedEvent[]; next: ParkedCursor | null }> {
  const where = ['p.source_topic = ?'];
  const params: unknown[] = [topic];
  if (options.unresolved) where.push('NOT EXISTS (SELECT 1 FROM transactions t WHERE t.id = p.tx_id)');
  if (options.after) {
    const at = options.after.parkedAt.replace('T', ' ').replace('Z', '');
    where.push('(p.parked_at, p.source_partition, p.source_offset) > (?, ?, ?)');
    params.push(at, options.after.partition, options.after.offset);
  }
  params.push(options.limit + 1);
  const [rows] = await pool.query(`${SELECT} WHERE ${where.join(' AND ')} ORDER BY p.parked_at, p.source_partition, p.source_offset LIMIT ?`, params);
  const items = (rows as ParkedRow[]).map(toParked);
  const more = items.length > options.limit;
  if (more) items.pop();
  const last = items[items.length - 1];
  return { items, next: more && last ? { parkedAt: last.parkedAt, partition: last.partition, offset: last.offset } : null };
}

export async function getParked(pool: Pool, topic: string, partition: number, offset: string): Promise<ParkedEvent | null> {
  const [rows] = await pool.query(`${SELECT} WHERE p.source_topic = ? AND p.source_partition = ? AND p.source_offset = ?`, [topic, partition, offset]);
  const row = (rows as ParkedRow[])[0];
  return row ? toParked(row) : null;
}

/** Counts what `ledgerflow verify` and the dashboards show: every parked event, and those not stored yet. */
export async function countParked(pool: Pool, topic: string): Promise<{ parked: number; unresolved: number }> {
  const [rows] = await pool.query(
    `SELECT COUNT(*) AS parked, COALESCE(SUM(NOT EXISTS (SELECT 1 FROM transactions t WHERE t.id = p.tx_id)), 0) AS unresolved
       FROM parked_events p WHERE p.source_topic = ?`,
    [topic],
  );
  const r = (rows as Array<{ parked: string; unresolved: string }>)[0];
  return { parked: Number(r?.parked ?? 0), unresolved: Number(r?.unresolved ?? 0) };
}

/** Sources ("partition:offset") of the parked events of a topic (verify: a parked event is accounted for). */
export async function parkedSources(pool: Pool, topic: string): Promise<Set<string>> {
  const [rows] = await pool.query('SELECT source_partition, source_offset FROM parked_events WHERE source_topic = ?', [topic]);
  return new Set((rows as Array<{ source_partition: number; source_offset: string }>).map((r) => parkedId(r.source_partition, String(r.source_offset))));
}

/** Records that a replay was sent (the event itself is applied by the pipeline, idempotently by its id). */
export async function markReplayed(pool: Pool, topic: string, partition: number, offset: string): Promise<void> {
  await pool.query(
    'UPDATE parked_events SET replay_count = replay_count + 1, replayed_at = CURRENT_TIMESTAMP(3) WHERE source_topic = ? AND source_partition = ? AND source_offset = ?',
    [topic, partition, offset],
  );
}
