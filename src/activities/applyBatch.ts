import { balanceKeysOf, decideBatch, netExternalFlow } from '../domain/ledger';
import { invariant } from '../domain/errors';
import type { RejectionReason } from '../domain/rules';
import type { SourcedEvent } from '../domain/transaction';
import { applyAccountRollups, applyBalanceDeltas, applyRollups, ensureBalanceRows, findExistingIds, insertTransactions, lockBalances } from '../store/ledger';
import { inTransaction, isRetryableDbError, type Pool } from '../store/pool';
import type { ApplyBatchInput, ApplyBatchResult } from '../workflows/types';
import { detectInTransaction, startBatchReviews, type FraudDeps } from './fraud';

export interface ApplyBatchDeps {
  pool: Pool;
  overdraftLimitMinor: bigint;
  /** Fraud detection in the same transaction; absent when fraud.enabled is off. */
  fraud?: FraudDeps;
}

/** First occurrence of an id wins inside a batch (a client may send the same key twice). */
function firstOfEachId(events: ReadonlyArray<SourcedEvent>): SourcedEvent[] {
  const seen = new Set<string>();
  return events.filter((e) => (seen.has(e.id) ? false : (seen.add(e.id), true)));
}

/**
 * Applies a batch in ONE database transaction: only events not stored yet are inserted, and only
 * those move balances and rollups, so any replay of the same batch changes nothing.
 */
export async function applyBatchWith(deps: ApplyBatchDeps, input: ApplyBatchInput): Promise<ApplyBatchResult> {
  await ensureBalanceRows(deps.pool, balanceKeysOf(input.events));
  // A deadlock or lock-wait timeout rolled the whole transaction back: run it again right here,
  // a few times with a short jitter, before falling back to Temporal's (slower) activity retry.
  for (let attempt = 1; ; attempt++) {
    try {
      const result = await applyOnce(deps, input);
      if (deps.fraud && (result.reviews > 0 || result.duplicates > 0)) await startBatchReviews(deps.pool, deps.fraud, input.events.map((e) => e.id));
      return result;
    } catch (err) {
      if (!isRetryableDbError(err) || attempt >= IN_ACTIVITY_ATTEMPTS_MAX) throw err;
      await new Promise((r) => setTimeout(r, 5 + Math.floor(Math.random() * 20 * attempt)));
    }
  }
}

const IN_ACTIVITY_ATTEMPTS_MAX = 5;

async function applyOnce(deps: ApplyBatchDeps, input: ApplyBatchInput): Promise<ApplyBatchResult> {
  const unique = firstOfEachId(input.events);
  return inTransaction(deps.pool, async (conn) => {
    const balances = await lockBalances(conn, balanceKeysOf(unique));
    const existing = await findExistingIds(conn, unique.map((e) => e.id));
    const fresh = unique.filter((e) => !existing.has(e.id));
    const rejections = new Map(Object.entries(input.rejections) as Array<[string, RejectionReason]>);
    const outcome = decideBatch(fresh, rejections, balances, deps.overdraftLimitMinor);

    let deltaSum = 0n;
    for (const d of outcome.balanceDeltas.values()) deltaSum += d;
    invariant(deltaSum === netExternalFlow(outcome.decisions), 'transfers must net to zero', input.batchId);

    await insertTransactions(conn, input.batchId, outcome.decisions);
    await applyBalanceDeltas(conn, outcome.balanceDeltas);
    await applyRollups(conn, outcome.rollups);
    await applyAccountRollups(conn, outcome.accountDays);
    const fraud = deps.fraud ? await detectInTransaction(conn, deps.fraud, input.batchId, outcome.decisions) : { flags: [], reviews: 0 };

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
    };
  });
}
