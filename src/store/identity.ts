import { createHash } from 'node:crypto';
import { canonicalContent, contentOf, type Content } from '../domain/identity';
import type { Decision, StoredEffect } from '../domain/ledger';
import type { TransactionType } from '../domain/transaction';
import { chunks, ROWS_PER_STATEMENT } from './ledger';
import type { Connection } from './pool';
import { toRow, type DbRow } from './queries';

/**
 * A transaction id is unique across all accounts on both stores (docs/decisions/021): on MariaDB
 * the `transactions` primary key is the id; on SingleStore, whose unique keys must contain the
 * shard key (account), `transactions` is unique on (account, id) only, so every id is also
 * written, in the same transaction, to `transaction_ids` (sharded by id, primary key id; migration
 * 007). Either way a stored id makes the batch's write fail with a duplicate key, and the lookup
 * below finds the stored row, wherever its account is.
 */
export interface StoredVariant extends StoredEffect {
  id: string;
  description: string | null;
  partition: number;
  offset: string;
  batchId: string;
}

const COLUMNS = 'id, account, counterparty, type, amount_minor, currency, status, reason, description, occurred_at, ingested_at, source_partition, source_offset, batch_id';

function toVariant(r: DbRow & { batch_id: string }): StoredVariant {
  const row = toRow(r);
  return { ...row, type: row.type as TransactionType, status: row.status as StoredVariant['status'], partition: row.source.partition, offset: row.source.offset, batchId: r.batch_id };
}

export function storedContent(v: StoredVariant): Content {
  return contentOf({ ...v, counterparty: v.counterparty ?? undefined, description: v.description ?? undefined });
}

/** The SQL that finds stored rows by id: by primary key on MariaDB, through the id table on SingleStore. */
export function storedVariantsSql(registry: boolean): string {
  return registry
    ? `SELECT ${COLUMNS.split(', ').map((c) => `t.${c}`).join(', ')} FROM transaction_ids i JOIN transactions t ON t.account = i.account AND t.id = i.id WHERE i.id IN (?)`
    : `SELECT ${COLUMNS} FROM transactions WHERE id IN (?)`;
}

/** The stored row of each of these ids that has one, with its content and source. */
export async function findStoredVariants(conn: Connection, ids: ReadonlyArray<string>, registry: boolean): Promise<Map<string, StoredVariant>> {
  const out = new Map<string, StoredVariant>();
  for (const part of chunks(ids, ROWS_PER_STATEMENT)) {
    const [rows] = await conn.query(storedVariantsSql(registry), [part]);
    for (const r of rows as Array<DbRow & { batch_id: string }>) out.set(r.id, toVariant(r));
  }
  return out;
}

/** SHA-256 of the canonical content (SingleStore's id table keeps it: a replay is told from a conflict without a cross-shard read). */
export function contentFingerprint(content: Content): string {
  return createHash('sha256').update(canonicalContent(content)).digest('hex');
}

/**
 * SingleStore only: one `transaction_ids` row per decision, in the batch's transaction. A stored id
 * fails the insert with a duplicate key, like MariaDB's primary key fails the row load.
 */
export async function registerIds(conn: Connection, decisions: ReadonlyArray<Decision>): Promise<void> {
  for (const part of chunks(decisions, ROWS_PER_STATEMENT)) {
    await conn.query('INSERT INTO transaction_ids (id, account, fingerprint, source_partition, source_offset) VALUES ?', [
      part.map(({ event: e }) => [e.id, e.account, contentFingerprint(contentOf(e)), e.partition, e.offset]),
    ]);
  }
}

/** Removes a superseded row (and, on SingleStore, its id entry: the winner registers the id again). */
export async function deleteStoredRows(conn: Connection, variants: ReadonlyArray<StoredVariant>, registry: boolean): Promise<void> {
  for (const v of variants) {
    const [res] = await conn.query('DELETE FROM transactions WHERE account = ? AND id = ?', [v.account, v.id]);
    if ((res as { affectedRows: number }).affectedRows !== 1) throw new Error(`superseded transaction ${v.id} was not stored as read`);
    if (registry) await conn.query('DELETE FROM transaction_ids WHERE id = ?', [v.id]);
  }
}

/**
 * A copy with the same content from an earlier position (another partition's resend applied
 * later): the row keeps its content and takes that source, so the stored row is the same whatever
 * the order the partitions were applied in.
 */
export async function moveStoredSource(conn: Connection, v: StoredVariant, to: { partition: number; offset: string }, batchId: string, registry: boolean): Promise<void> {
  await conn.query('UPDATE transactions SET source_partition = ?, source_offset = ?, batch_id = ? WHERE account = ? AND id = ?', [to.partition, to.offset, batchId, v.account, v.id]);
  if (registry) await conn.query('UPDATE transaction_ids SET source_partition = ?, source_offset = ? WHERE id = ?', [to.partition, to.offset, v.id]);
}

/** Whether a review already reversed these transactions' balance effect (a supersession must not reverse it twice). */
export async function reviewReversed(conn: Connection, ids: ReadonlyArray<string>): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const [rows] = await conn.query('SELECT tx_id FROM reviews WHERE tx_id IN (?) AND reversed = 1', [ids]);
  return new Set((rows as Array<{ tx_id: string }>).map((r) => r.tx_id));
}

/**
 * A superseded transaction's fraud flag and review describe the content that is gone: removed in
 * the supersession's transaction (the winner is scored in the same batch). A review workflow still
 * waiting for it finds no review row when decided, and decides nothing.
 */
export async function forgetFraudOf(conn: Connection, ids: ReadonlyArray<string>): Promise<void> {
  if (ids.length === 0) return;
  await conn.query('DELETE FROM fraud_flags WHERE tx_id IN (?)', [ids]);
  await conn.query('DELETE FROM reviews WHERE tx_id IN (?)', [ids]);
}
