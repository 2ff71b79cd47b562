import { invariant } from '../domain/errors';
import { balanceKey, foldIntoRow, minuteOf, dayOf, type AccountDayDelta, type PendingCredit, type RollupDelta } from '../domain/ledger';
import { BALANCE_MAX_MINOR } from '../domain/money';
import type { PendingCreditRow } from '../store/ledger';
import type { Connection } from '../store/pool';
import { fromDbDateTime } from '../store/pool';

/**
 * A transfer's credit waiting for an account of another partition is folded into the receiver's
 * balance row by the receiver's own batch, which holds that row locked (decision 008). The sender's
 * batch cannot know the receiver's balance without locking it, so the receiver decides, exactly,
 * when it folds (docs/decisions/020-poison-isolation.md): a credit that would take the balance past
 * BALANCE_MAX_MINOR is returned — the transfer becomes `rejected` with reason `balance_overflow`,
 * its amount goes back to the sender, and its rollups move from applied to rejected — all in the
 * receiver's transaction, before the batch's own events are decided (credits committed earlier
 * are applied first: that is their order).
 */
export interface FoldPlan {
  /** Each held key's row after the fold, before the batch's own deltas. */
  rows: Map<string, bigint>;
  /** Each held key's balance for the batch's decisions: its row plus what stays pending. */
  totals: Map<string, bigint>;
  /** Credit rows absorbed by their row, or returned: both are deleted. */
  consumed: PendingCreditRow[];
  returned: ReturnedTransfer[];
  /** Returns to senders the batch does not hold: new pending credits. */
  refunds: PendingCredit[];
}

export interface ReturnedTransfer {
  txId: string;
  sender: string;
  currency: string;
  amountMinor: bigint;
  occurredAt: string;
}

interface TransferRow {
  id: string;
  account: string;
  counterparty: string | null;
  type: string;
  status: string;
  currency: string;
  occurred_at: string;
}

/** The stored transactions behind credit rows that did not fit: which are applied transfers to that row's account. */
async function returnableTransfers(conn: Connection, refused: ReadonlyArray<PendingCreditRow>): Promise<Map<string, TransferRow>> {
  if (refused.length === 0) return new Map();
  const [rows] = await conn.query('SELECT id, account, counterparty, type, status, currency, occurred_at FROM transactions WHERE id IN (?)', [refused.map((r) => r.txId)]);
  const byId = new Map((rows as TransferRow[]).map((r) => [r.id, r]));
  const out = new Map<string, TransferRow>();
  for (const r of refused) {
    const tx = byId.get(r.txId);
    if (tx && tx.type === 'transfer' && tx.status === 'applied' && tx.counterparty === r.account && tx.currency === r.currency) out.set(r.txId, tx);
  }
  return out;
}

/**
 * Folds the held keys' pending credits (see FoldPlan). Credits that do not fit and are not
 * returnable (a return's own refund to a sender near the limit) stay pending: still the account's
 * money, counted in its total, never written past the column.
 */
export async function planFold(conn: Connection, locked: ReadonlyMap<string, bigint>, pending: ReadonlyArray<PendingCreditRow>): Promise<FoldPlan> {
  const byKey = new Map<string, PendingCreditRow[]>();
  for (const row of pending) {
    const key = balanceKey(row.account, row.currency);
    byKey.set(key, [...(byKey.get(key) ?? []), row]);
  }
  const plan: FoldPlan = { rows: new Map(locked), totals: new Map(locked), consumed: [], returned: [], refunds: [] };
  const refused: PendingCreditRow[] = [];
  for (const [key, rows] of byKey) {
    const fold = foldIntoRow(locked.get(key) ?? 0n, rows.map((row) => ({ txId: row.txId, amountMinor: row.amountMinor })));
    const absorbed = new Set(fold.folded.map((c) => c.txId));
    plan.rows.set(key, fold.value);
    plan.totals.set(key, fold.value);
    for (const row of rows) (absorbed.has(row.txId) ? plan.consumed : refused).push(row);
  }
  const returnable = await returnableTransfers(conn, refused);
  for (const row of refused) {
    const key = balanceKey(row.account, row.currency);
    const tx = returnable.get(row.txId);
    if (!tx) {
      plan.totals.set(key, (plan.totals.get(key) ?? 0n) + row.amountMinor);
      continue;
    }
    plan.consumed.push(row);
    plan.returned.push({ txId: tx.id, sender: tx.account, currency: tx.currency, amountMinor: row.amountMinor, occurredAt: fromDbDateTime(tx.occurred_at) });
    const senderKey = balanceKey(tx.account, tx.currency);
    const senderRow = plan.rows.get(senderKey);
    if (senderRow !== undefined && senderRow + row.amountMinor <= BALANCE_MAX_MINOR) {
      plan.rows.set(senderKey, senderRow + row.amountMinor);
      plan.totals.set(senderKey, (plan.totals.get(senderKey) ?? 0n) + row.amountMinor);
    } else plan.refunds.push({ txId: tx.id, account: tx.account, currency: tx.currency, amountMinor: row.amountMinor });
  }
  return plan;
}

/** A returned transfer's rollups: from applied to rejected (balance_overflow), on the sender's account-day row too. */
export function returnRollups(returned: ReadonlyArray<ReturnedTransfer>): { rollups: RollupDelta[]; accountDays: AccountDayDelta[] } {
  const rollups: RollupDelta[] = [];
  const accountDays: AccountDayDelta[] = [];
  for (const r of returned) {
    const base = { minute: minuteOf(r.occurredAt), type: 'transfer' as const, currency: r.currency };
    rollups.push({ ...base, status: 'applied', reason: '', count: -1, sumMinor: -r.amountMinor });
    rollups.push({ ...base, status: 'rejected', reason: 'balance_overflow', count: 1, sumMinor: r.amountMinor });
    accountDays.push({ day: dayOf(r.occurredAt), currency: r.currency, account: r.sender, count: 0, rejectedCount: 1, appliedMinor: -r.amountMinor });
  }
  return { rollups, accountDays };
}

/** Marks returned transfers rejected (balance_overflow); each must still be the applied row the fold read. */
export async function markReturned(conn: Connection, returned: ReadonlyArray<ReturnedTransfer>): Promise<void> {
  for (const r of returned) {
    const [res] = await conn.query("UPDATE transactions SET status = 'rejected', reason = 'balance_overflow' WHERE account = ? AND id = ? AND status = 'applied'", [r.sender, r.txId]);
    invariant((res as { affectedRows: number }).affectedRows === 1, 'a returned transfer is the applied row the fold read', r.txId);
  }
}
