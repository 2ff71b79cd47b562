import { balanceKey } from '../domain/ledger';
import { applyBalanceDeltas, lockBalances } from './ledger';
import type { Connection, Pool } from './pool';
import { fromDbDateTime } from './pool';

/** The review queue: decisions guarded by status, reversal of a rejected transaction, keyset listing. */
export interface ReviewRow {
  txId: string;
  account: string;
  score: string;
  status: 'open' | 'escalated' | 'approved' | 'rejected';
  openedAt: string;
  escalatedAt: string | null;
  decidedAt: string | null;
  decidedBy: string | null;
  reversed: boolean;
}

interface DbReview {
  tx_id: string;
  account: string;
  score: string;
  status: ReviewRow['status'];
  opened_at: string;
  escalated_at: string | null;
  decided_at: string | null;
  decided_by: string | null;
  reversed: number;
}

const COLUMNS = 'tx_id, account, score, status, opened_at, escalated_at, decided_at, decided_by, reversed';
const toRow = (r: DbReview): ReviewRow => ({
  txId: r.tx_id,
  account: r.account,
  score: String(r.score),
  status: r.status,
  openedAt: fromDbDateTime(r.opened_at),
  escalatedAt: r.escalated_at ? fromDbDateTime(r.escalated_at) : null,
  decidedAt: r.decided_at ? fromDbDateTime(r.decided_at) : null,
  decidedBy: r.decided_by,
  reversed: Number(r.reversed) === 1,
});

export async function getReview(pool: Pool, txId: string): Promise<ReviewRow | null> {
  const [rows] = await pool.query(`SELECT ${COLUMNS} FROM reviews WHERE tx_id = ?`, [txId]);
  const row = (rows as DbReview[])[0];
  return row ? toRow(row) : null;
}

export interface ReviewCursor {
  openedAt: string;
  txId: string;
}

/** One page of reviews in a status, oldest first, after the cursor (keyset paging). */
export async function listReviews(pool: Pool, status: ReviewRow['status'], limit: number, after?: ReviewCursor): Promise<{ items: ReviewRow[]; next: ReviewCursor | null }> {
  const params: unknown[] = [status];
  let where = 'status = ?';
  if (after) {
    where += ' AND (opened_at > ? OR (opened_at = ? AND tx_id > ?))';
    const at = after.openedAt.replace('T', ' ').replace('Z', '');
    params.push(at, at, after.txId);
  }
  params.push(limit + 1);
  const [rows] = await pool.query(`SELECT ${COLUMNS} FROM reviews WHERE ${where} ORDER BY opened_at, tx_id LIMIT ?`, params);
  const items = (rows as DbReview[]).map(toRow);
  const more = items.length > limit;
  if (more) items.pop();
  const last = items[items.length - 1];
  return { items, next: more && last ? { openedAt: last.openedAt, txId: last.txId } : null };
}

export async function escalate(conn: Connection, txId: string): Promise<void> {
  const [res] = await conn.query("UPDATE reviews SET status = 'escalated', escalated_at = CURRENT_TIMESTAMP(3) WHERE tx_id = ? AND status = 'open'", [txId]);
  if ((res as { affectedRows: number }).affectedRows === 1) {
    await conn.query("INSERT INTO review_audit (tx_id, action, actor, reason) VALUES (?, 'escalate', 'timer', 'no decision in time')", [txId]);
  }
}

interface TxRow {
  account: string;
  counterparty: string | null;
  type: 'debit' | 'credit' | 'transfer';
  amount_minor: string;
  currency: string;
  status: string;
}

/** The balance deltas that reverse an applied transaction (credit → debit, debit → credit, transfer → back to the sender). */
function reversalDeltas(tx: TxRow): Map<string, bigint> {
  const amount = BigInt(tx.amount_minor);
  const deltas = new Map<string, bigint>([[balanceKey(tx.account, tx.currency), tx.type === 'credit' ? -amount : amount]]);
  if (tx.type === 'transfer' && tx.counterparty) deltas.set(balanceKey(tx.counterparty, tx.currency), -amount);
  return deltas;
}

async function readTransaction(conn: Connection, txId: string): Promise<TxRow | undefined> {
  const [rows] = await conn.query('SELECT account, counterparty, type, amount_minor, currency, status FROM transactions WHERE id = ?', [txId]);
  return (rows as TxRow[])[0];
}

/**
 * Decides a review once: the row is locked and only an undecided review changes. A rejection of an
 * applied transaction moves its amounts back and adds its embedding to the confirmed-fraud set, in
 * the same transaction.
 *
 * A rejection locks the balance rows it may move first, in sorted order, and the review row after
 * them: the order of a batch, which holds its balance rows before anything else and may then
 * delete this review (a supersession, docs/decisions/021). The other order closed a cycle
 * (MariaDB reported a deadlock; SingleStore, which detects none, would wait for its lock wait
 * timeout: docs/decisions/027).
 */
export async function decide(conn: Connection, txId: string, action: 'approve' | 'reject', actor: string, reason: string): Promise<{ status: 'approved' | 'rejected'; reversed: boolean }> {
  const held = new Set<string>();
  if (action === 'reject') {
    const before = await readTransaction(conn, txId);
    if (before?.status === 'applied') {
      const keys = [...reversalDeltas(before).keys()].sort();
      await lockBalances(conn, keys);
      for (const key of keys) held.add(key);
    }
  }
  const [rows] = await conn.query('SELECT status, reversed FROM reviews WHERE tx_id = ? FOR UPDATE', [txId]);
  const review = (rows as Array<{ status: ReviewRow['status']; reversed: number }>)[0];
  // The transaction under review was superseded by a variant from an earlier position (its review
  // went with it, docs/decisions/021): nothing is held, so nothing is decided or reversed.
  if (!review) return { status: action === 'approve' ? 'approved' : 'rejected', reversed: false };
  if (review.status === 'approved' || review.status === 'rejected') return { status: review.status, reversed: Number(review.reversed) === 1 };
  const status = action === 'approve' ? 'approved' : 'rejected';
  await conn.query('UPDATE reviews SET status = ?, decided_at = CURRENT_TIMESTAMP(3), decided_by = ? WHERE tx_id = ?', [status, actor, txId]);
  await conn.query('INSERT INTO review_audit (tx_id, action, actor, reason) VALUES (?, ?, ?, ?)', [txId, action, actor, reason]);
  if (action === 'approve') return { status, reversed: false };

  // Read again under the locks: a returned transfer is no longer applied.
  const tx = await readTransaction(conn, txId);
  let reversed = false;
  if (tx && tx.status === 'applied') {
    const deltas = reversalDeltas(tx);
    // Rows not locked above only if the stored row changed in between (a superseding variant with
    // a review of its own): taken now, out of order, on that rare path only.
    const missing = [...deltas.keys()].filter((key) => !held.has(key)).sort();
    if (missing.length > 0) await lockBalances(conn, missing);
    await applyBalanceDeltas(conn, deltas);
    await conn.query('UPDATE reviews SET reversed = 1 WHERE tx_id = ?', [txId]);
    await conn.query("INSERT INTO review_audit (tx_id, action, actor, reason) VALUES (?, 'reversed', ?, ?)", [txId, actor, `reversed ${tx.type} of ${tx.amount_minor} ${tx.currency}`]);
    reversed = true;
  }
  await conn.query(
    "INSERT IGNORE INTO fraud_vectors (tx_id, account, embedding, source) SELECT tx_id, account, embedding, 'review' FROM fraud_flags WHERE tx_id = ? AND embedding IS NOT NULL",
    [txId],
  );
  return { status, reversed };
}

export async function auditTrail(pool: Pool, txId: string): Promise<Array<{ action: string; actor: string; reason: string; at: string }>> {
  // By time, then by the action's place in the ENUM (opened, approve, reject, escalate, reversed),
  // never by the AUTO_INCREMENT id, which SingleStore keeps unique but not in insertion order
  // (decision 027). Only a decision and its 'reversed' row share a transaction, and so possibly an
  // instant: the ENUM puts the reversal after the decision. The id only separates exact copies.
  const [rows] = await pool.query('SELECT action, actor, reason, at FROM review_audit WHERE tx_id = ? ORDER BY at, action, id', [txId]);
  return (rows as Array<{ action: string; actor: string; reason: string; at: string }>).map((r) => ({ ...r, at: fromDbDateTime(r.at) }));
}

/** Transactions whose balance effect a rejected review reversed. */
export async function reversedTransactionIds(pool: Pool): Promise<Set<string>> {
  const [rows] = await pool.query('SELECT tx_id FROM reviews WHERE reversed = 1');
  return new Set((rows as Array<{ tx_id: string }>).map((r) => r.tx_id));
}
