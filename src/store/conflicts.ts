import { differingFields, type Content, type ContentField } from '../domain/identity';
import { chunks, IN_LIST_MAX, ROWS_PER_STATEMENT } from './ledger';
import type { Connection, Pool } from './pool';
import { fromDbDateTime } from './pool';

/**
 * Conflicts (docs/decisions/021-one-id-one-payment.md): an event whose id is stored with other
 * content. One row per losing variant, keyed by the id and the variant's source, so recording it
 * again (a replayed batch) changes nothing. `stored_*` is the source of the stored row, `fields`
 * what differs from it. `outcome`: `arrived_later` (the variant came after the stored one and was
 * not stored) or `superseded` (it was stored, and replaced by a variant from an earlier position).
 */
export interface ConflictInput {
  txId: string;
  topic: string;
  variant: { partition: number; offset: string; content: Content };
  stored: { partition: number; offset: string; content: Content };
  /** The losing message's bytes as produced, when the worker saw it arrive (not for a superseded row). */
  payload: Buffer | null;
  outcome: 'arrived_later' | 'superseded';
  batchId: string;
}

export interface Conflict {
  /** "<txId>@<partition>:<offset>" of the losing variant. */
  id: string;
  txId: string;
  topic: string;
  variant: { partition: number; offset: string; content: Content };
  stored: { partition: number; offset: string };
  fields: ContentField[];
  payload: string | null;
  outcome: 'arrived_later' | 'superseded';
  batchId: string;
  recordedAt: string;
}

export function conflictId(txId: string, partition: number, offset: string): string {
  return `${txId}@${partition}:${offset}`;
}

/** "<txId>|<topic>|<partition>|<offset>": the primary key of a conflict row. */
const conflictKey = (txId: string, topic: string, partition: number, offset: string) => `${txId}|${topic}|${partition}|${offset}`;

/**
 * Records conflicts in the batch's transaction; a conflict recorded before keeps its first row.
 * Returns how many were recorded for the first time, so a replayed batch counts nothing again.
 * The rows already there are read first: the upsert's affected-row count cannot tell them apart,
 * since the driver's FOUND_ROWS flag counts an unchanged duplicate as 1, like an insert. Only
 * two attempts of one batch committing at once could both count a conflict; it is stored once.
 */
export async function recordConflicts(conn: Connection, conflicts: ReadonlyArray<ConflictInput>): Promise<number> {
  if (conflicts.length === 0) return 0;
  const known = new Set<string>();
  for (const part of chunks([...new Set(conflicts.map((c) => c.txId))], IN_LIST_MAX)) {
    const [rows] = await conn.query('SELECT tx_id, source_topic, variant_partition, variant_offset FROM transaction_conflicts WHERE tx_id IN (?)', [part]);
    for (const r of rows as Array<{ tx_id: string; source_topic: string; variant_partition: number; variant_offset: string }>) {
      known.add(conflictKey(r.tx_id, r.source_topic, r.variant_partition, String(r.variant_offset)));
    }
  }
  const fresh = conflicts.filter((c) => !known.has(conflictKey(c.txId, c.topic, c.variant.partition, c.variant.offset)));
  for (const part of chunks(fresh, ROWS_PER_STATEMENT)) {
    const rows = part.map((c) => [
      c.txId,
      c.topic,
      c.variant.partition,
      c.variant.offset,
      c.stored.partition,
      c.stored.offset,
      differingFields(c.variant.content, c.stored.content).join(','),
      JSON.stringify(c.variant.content),
      c.payload,
      c.outcome,
      c.batchId,
    ]);
    // INSERT IGNORE would also turn a value the table cannot hold into a warning. The no-op
    // assignment is to a column outside every key: SingleStore refuses an upsert that assigns the
    // shard key (decision 027).
    await conn.query(
      `INSERT INTO transaction_conflicts (tx_id, source_topic, variant_partition, variant_offset, stored_partition, stored_offset, fields, variant, payload, outcome, batch_id) VALUES ?
       ON DUPLICATE KEY UPDATE batch_id = batch_id`,
      [rows],
    );
  }
  return fresh.length;
}

/**
 * After a supersession (or a move of the stored row's source), the conflicts recorded against the
 * old stored variant point to the new one: its source, and what differs from it now. A recorded
 * variant with the new stored content is a duplicate of it, not a conflict any more: removed. So
 * the conflicts of an id end the same whatever the order its variants arrived in.
 */
export async function repointConflicts(conn: Connection, txId: string, stored: { partition: number; offset: string; content: Content }): Promise<void> {
  const [rows] = await conn.query('SELECT source_topic, variant_partition, variant_offset, variant FROM transaction_conflicts WHERE tx_id = ? FOR UPDATE', [txId]);
  for (const r of rows as Array<{ source_topic: string; variant_partition: number; variant_offset: string; variant: string }>) {
    const key = [txId, r.source_topic, r.variant_partition, r.variant_offset];
    const fields = differingFields(JSON.parse(r.variant) as Content, stored.content);
    if (fields.length === 0) await conn.query('DELETE FROM transaction_conflicts WHERE tx_id = ? AND source_topic = ? AND variant_partition = ? AND variant_offset = ?', key);
    else {
      await conn.query('UPDATE transaction_conflicts SET stored_partition = ?, stored_offset = ?, fields = ? WHERE tx_id = ? AND source_topic = ? AND variant_partition = ? AND variant_offset = ?', [
        stored.partition,
        stored.offset,
        fields.join(','),
        ...key,
      ]);
    }
  }
}

interface ConflictRow {
  tx_id: string;
  source_topic: string;
  variant_partition: number;
  variant_offset: string;
  stored_partition: number;
  stored_offset: string;
  fields: string;
  variant: string;
  payload: Buffer | null;
  outcome: Conflict['outcome'];
  batch_id: string;
  recorded_at: string;
}

const SELECT = 'SELECT tx_id, source_topic, variant_partition, variant_offset, stored_partition, stored_offset, fields, variant, payload, outcome, batch_id, recorded_at FROM transaction_conflicts';

const toConflict = (r: ConflictRow): Conflict => ({
  id: conflictId(r.tx_id, r.variant_partition, String(r.variant_offset)),
  txId: r.tx_id,
  topic: r.source_topic,
  variant: { partition: r.variant_partition, offset: String(r.variant_offset), content: JSON.parse(r.variant) as Content },
  stored: { partition: r.stored_partition, offset: String(r.stored_offset) },
  fields: r.fields.split(',').filter((f) => f.length > 0) as ContentField[],
  payload: r.payload === null ? null : Buffer.from(r.payload).toString('utf8'),
  outcome: r.outcome,
  batchId: r.batch_id,
  recordedAt: fromDbDateTime(r.recorded_at),
});

export interface ConflictCursor {
  recordedAt: string;
  txId: string;
  partition: number;
  offset: string;
}

/** Conflicts of a topic, oldest first, keyset-paged. */
export async function listConflicts(pool: Pool, topic: string, options: { limit: number; after?: ConflictCursor }): Promise<{ items: Conflict[]; next: ConflictCursor | null }> {
  const where = ['source_topic = ?'];
  const params: unknown[] = [topic];
  if (options.after) {
    where.push('(recorded_at, tx_id, variant_partition, variant_offset) > (?, ?, ?, ?)');
    params.push(options.after.recordedAt.replace('T', ' ').replace('Z', ''), options.after.txId, options.after.partition, options.after.offset);
  }
  params.push(options.limit + 1);
  const [rows] = await pool.query(`${SELECT} WHERE ${where.join(' AND ')} ORDER BY recorded_at, tx_id, variant_partition, variant_offset LIMIT ?`, params);
  const items = (rows as ConflictRow[]).map(toConflict);
  const more = items.length > options.limit;
  if (more) items.pop();
  const last = items[items.length - 1];
  return { items, next: more && last ? { recordedAt: last.recordedAt, txId: last.txId, partition: last.variant.partition, offset: last.variant.offset } : null };
}

/** Every conflict recorded for one transaction id (what `ledgerflow conflicts show <id>` prints). */
export async function conflictsOfTransaction(pool: Pool, txId: string): Promise<Conflict[]> {
  const [rows] = await pool.query(`${SELECT} WHERE tx_id = ? ORDER BY variant_partition, variant_offset`, [txId]);
  return (rows as ConflictRow[]).map(toConflict);
}

/** Every recorded conflict of a topic as "<txId>@<partition>:<offset>" → its fields (verify). */
export async function recordedConflicts(pool: Pool, topic: string): Promise<Map<string, { stored: string; fields: string }>> {
  const out = new Map<string, { stored: string; fields: string }>();
  let after = { txId: '', partition: -1, offset: '-1' };
  for (;;) {
    const [rows] = await pool.query(
      `SELECT tx_id, variant_partition, variant_offset, stored_partition, stored_offset, fields FROM transaction_conflicts
        WHERE source_topic = ? AND (tx_id, variant_partition, variant_offset) > (?, ?, ?) ORDER BY tx_id, variant_partition, variant_offset LIMIT ?`,
      [topic, after.txId, after.partition, after.offset, ROWS_PER_STATEMENT * 10],
    );
    const page = rows as ConflictRow[];
    for (const r of page) out.set(conflictId(r.tx_id, r.variant_partition, String(r.variant_offset)), { stored: `${r.stored_partition}:${r.stored_offset}`, fields: r.fields });
    if (page.length < ROWS_PER_STATEMENT * 10) return out;
    const last = page[page.length - 1] as ConflictRow;
    after = { txId: last.tx_id, partition: last.variant_partition, offset: String(last.variant_offset) };
  }
}
