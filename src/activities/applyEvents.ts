import { invariant } from '../domain/errors';
import { balanceKey, decideBatch, foldIntoRow, netExternalFlow, ownBalanceKeysOf, splitCredits, type FoldCandidate } from '../domain/ledger';
import type { RejectionReason } from '../domain/rules';
import type { SourcedEvent } from '../domain/transaction';
import {
  applyAccountRollups,
  applyRollups,
  deleteFoldedCredits,
  findExistingIds,
  insertPendingCredits,
  insertTransactions,
  lockBalances,
  readCommittedTotals,
  readPendingCredits,
  writeBalances,
  type PendingCreditRow,
  type RowWrite,
} from '../store/ledger';
import type { Connection } from '../store/pool';
import type { ApplyBatchInput, ApplyBatchResult } from '../workflows/types';
import { detectInTransaction, type FraudDeps } from './fraud';

/** What the transaction body needs of the worker's dependencies. */
export interface ApplyEventsDeps {
  overdraftLimitMinor: bigint;
  fraud?: FraudDeps;
  rowWrite?: RowWrite;
}

/** First occurrence of an id wins inside a batch (a client may send the same key twice). */
export function firstOfEachId(events: ReadonlyArray<SourcedEvent>): SourcedEvent[] {
  const seen = new Set<string>();
  return events.filter((e) => (seen.has(e.id) ? false : (seen.add(e.id), true)));
}

/** Balance keys of transfer counterparties the batch does not hold: their overflow check reads committed totals. */
function counterpartyKeysOutside(events: ReadonlyArray<SourcedEvent>, held: ReadonlySet<string>): string[] {
  const keys = new Set<string>();
  for (const e of events) {
    if (e.type !== 'transfer' || e.counterparty === undefined) continue;
    const key = balanceKey(e.counterparty, e.currency);
    if (!held.has(key)) keys.add(key);
  }
  return [...keys];
}

/**
 * The new value of every held balance row that changes (its own delta plus the pending credits
 * it absorbs, see foldIntoRow) and the credit rows folded into them.
 */
function rowWrites(locked: ReadonlyMap<string, bigint>, deltas: ReadonlyMap<string, bigint>, pending: ReadonlyArray<PendingCreditRow>): { values: Map<string, bigint>; folded: PendingCreditRow[] } {
  const byKey = new Map<string, PendingCreditRow[]>();
  for (const row of pending) {
    const key = balanceKey(row.account, row.currency);
    const list = byKey.get(key) ?? [];
    list.push(row);
    byKey.set(key, list);
  }
  const values = new Map<string, bigint>();
  const folded: PendingCreditRow[] = [];
  for (const key of new Set([...deltas.keys(), ...byKey.keys()])) {
    const rows = byKey.get(key) ?? [];
    const delta = deltas.get(key) ?? 0n;
    if (delta === 0n && rows.length === 0) continue;
    const candidates: Array<FoldCandidate & { row: PendingCreditRow }> = rows.map((row) => ({ txId: row.txId, amountMinor: row.amountMinor, row }));
    const fold = foldIntoRow(locked.get(key) ?? 0n, delta, candidates);
    values.set(key, fold.value);
    for (const c of fold.folded) folded.push((c as (typeof candidates)[number]).row);
  }
  return { values, folded };
}

/**
 * The batch's work inside ONE database transaction (the caller's): only events not stored yet are
 * inserted, and only those move balances and rollups, so any replay of the same batch changes
 * nothing. `lookUp`: skip the ids already stored (else any stored id fails the attempt).
 * `eventKeys` are ownBalanceKeysOf(input.events): the same keys as the unique events' when no id
 * repeats (a repeated id may carry another account, and only its first copy counts).
 */
export async function applyEventsIn(conn: Connection, deps: ApplyEventsDeps, input: ApplyBatchInput, lookUp: boolean, eventKeys: string[]): Promise<ApplyBatchResult> {
  const unique = firstOfEachId(input.events);
  // Only the batch's own balance rows are locked (its partition's accounts); credits to other
  // accounts wait in balance_credits, and the credits waiting for our own accounts are folded in.
  const ownKeys = unique.length === input.events.length ? eventKeys : ownBalanceKeysOf(unique);
  const held = new Set(ownKeys);
  // Counterparties of other partitions: their committed totals (no lock) for the overflow check,
  // sent along with the locking reads (mysql2 queues them on the connection: no extra round trip).
  const [locked, others] = await Promise.all([lockBalances(conn, ownKeys), readCommittedTotals(conn, counterpartyKeysOutside(unique, held))]);
  const pending = await readPendingCredits(conn, held);
  const balances = new Map(others);
  for (const [key, row] of locked) balances.set(key, row + (pending.sums.get(key) ?? 0n));
  const existing = lookUp ? await findExistingIds(conn, unique.map((e) => e.id)) : new Set<string>();
  const fresh = unique.filter((e) => !existing.has(e.id));
  const rejections = new Map(Object.entries(input.rejections) as Array<[string, RejectionReason]>);
  const outcome = decideBatch(fresh, rejections, balances, deps.overdraftLimitMinor);
  const { deltas, credits } = splitCredits(outcome, held);

  let deltaSum = 0n;
  for (const d of deltas.values()) deltaSum += d;
  for (const c of credits) deltaSum += c.amountMinor;
  invariant(deltaSum === netExternalFlow(outcome.decisions), 'transfers must net to zero', input.batchId);
  const writes = rowWrites(locked, deltas, pending.rows);
  const fraud = deps.fraud ? await detectInTransaction(conn, deps.fraud, input.batchId, outcome.decisions) : { flags: [], reviews: 0 };

  await insertTransactions(conn, input.batchId, outcome.decisions, deps.rowWrite);
  await writeBalances(conn, writes.values);
  await deleteFoldedCredits(conn, writes.folded);
  await applyAccountRollups(conn, outcome.accountDays);
  // Rows every concurrent batch shares come last, so their locks are held only until the commit
  // (detection, above, runs before them for the same reason: issue 7).
  await insertPendingCredits(conn, credits);
  await applyRollups(conn, outcome.rollups);

  const rejectedByReason: Partial<Record<RejectionReason, number>> = {};
  let applied = 0;
  for (const d of outcome.decisions) {
    if (d.status === 'applied') applied += 1;
    else if (d.reason) rejectedByReason[d.reason] = (rejectedByReason[d.reason] ?? 0) + 1;
  }
  return {
    batchId: input.batchId,
    inserted: outcome.decisions.length,
    duplicates: input.events.length - fresh.length,
    applied,
    rejected: outcome.decisions.length - applied,
    rejectedByReason,
    flagged: fraud.flags.length,
    reviews: fraud.reviews,
    parked: 0,
    isolationSteps: 0,
  };
}
