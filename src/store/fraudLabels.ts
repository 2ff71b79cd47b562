import { chunks, ROWS_PER_STATEMENT } from './ledger';
import type { Pool } from './pool';
import { toDbDateTime } from './pool';

/**
 * The synthetic traffic's ground truth (migration 009): written by the producer, read by the demo
 * summary, the business dashboard and `fraud eval` to score detection. Detection never reads it.
 */
export interface FraudLabel {
  txId: string;
  account: string;
  pattern: string;
  /** ISO instant of the transaction. */
  occurredAt: string;
}

/** Idempotent: a resent event keeps its id, so its label is written once. */
export async function insertFraudLabels(pool: Pool, labels: ReadonlyArray<FraudLabel>): Promise<void> {
  for (const part of chunks(labels, ROWS_PER_STATEMENT)) {
    await pool.query('INSERT IGNORE INTO fraud_labels (tx_id, account, pattern, occurred_at) VALUES ?', [part.map((l) => [l.txId, l.account, l.pattern, toDbDateTime(l.occurredAt)])]);
  }
}

/** Every label, by transaction id (a scored workload's whole ground truth). */
export async function allFraudLabels(pool: Pool): Promise<Map<string, string>> {
  const [rows] = await pool.query('SELECT tx_id, pattern FROM fraud_labels');
  return new Map((rows as Array<{ tx_id: string; pattern: string }>).map((r) => [r.tx_id, r.pattern]));
}

/** How detection did on the transactions that occurred in a time range, from the labels. */
export interface FraudOutcome {
  /** Transactions stored that occurred in the range. */
  transactions: number;
  /** Of which applied (the others were rejected by the ledger's rules). */
  applied: number;
  /** Labelled fraud among them. */
  injected: number;
  /** Flags on them. */
  flagged: number;
  /** Flags on labelled fraud. */
  caught: number;
  /** caught / flagged (1 when nothing was flagged). */
  precision: number;
  /** caught / injected (1 when nothing was injected). */
  recall: number;
  /** Reviews opened for them. */
  reviewsOpened: number;
}

/**
 * The counts behind the business dashboard's fraud panels, for one range of occurred_at (the
 * demo's own run). Flags and reviews are found through their transaction, so a flag raised after
 * the range ends still counts for the transaction it belongs to.
 */
export async function fraudOutcome(pool: Pool, fromIso: string, toIso: string): Promise<FraudOutcome> {
  const range = [toDbDateTime(fromIso), toDbDateTime(toIso)];
  const [rows] = await pool.query(
    `SELECT COUNT(*) AS transactions,
            SUM(t.status = 'applied') AS applied,
            COUNT(l.tx_id) AS injected,
            COUNT(f.tx_id) AS flagged,
            SUM(l.tx_id IS NOT NULL AND f.tx_id IS NOT NULL) AS caught,
            COUNT(r.tx_id) AS reviews
       FROM transactions t
       LEFT JOIN fraud_labels l ON l.tx_id = t.id
       LEFT JOIN fraud_flags f ON f.tx_id = t.id
       LEFT JOIN reviews r ON r.tx_id = t.id
      WHERE t.occurred_at BETWEEN ? AND ?`,
    range,
  );
  const r = (rows as Array<Record<string, string | number | null>>)[0] ?? {};
  const count = (v: string | number | null | undefined) => Number(v ?? 0);
  const injected = count(r.injected);
  const flagged = count(r.flagged);
  const caught = count(r.caught);
  return {
    transactions: count(r.transactions),
    applied: count(r.applied),
    injected,
    flagged,
    caught,
    precision: flagged === 0 ? 1 : caught / flagged,
    recall: injected === 0 ? 1 : caught / injected,
    reviewsOpened: count(r.reviews),
  };
}
