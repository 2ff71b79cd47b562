import { validateBatch } from '../domain/batch';
import { decideBatch, netExternalFlow, ownBalanceKeysOf, splitCredits } from '../domain/ledger';
import { invariant } from '../domain/errors';
import type { RejectionReason } from '../domain/rules';
import type { SourcedEvent } from '../domain/transaction';
import { applyAccountRollups, applyBalanceDeltas, applyRollups, deleteFoldedCredits, ensureBalanceRows, findExistingIds, insertPendingCredits, insertTransactions, lockBalances, readPendingCredits, type RowWrite } from '../store/ledger';
import { inTransaction, isRetryableDbError, type Pool } from '../store/pool';
import { unpackEvents } from '../temporal/packedBatch';
import type { ApplyBatchInput, ApplyBatchResult, ApplyPackedInput } from '../workflows/types';
import { detectInTransaction, startBatchReviews, sweepRoundTrips, type FraudDeps, type ReviewAdmission } from './fraud';

export interface ApplyBatchDeps {
  pool: Pool;
  overdraftLimitMinor: bigint;
  /** Fraud detection in the same transaction; absent when fraud.enabled is off. */
  fraud?: FraudDeps;
  /** How the rows are written (default `load`; SingleStore: `insert`, see RowWrite). */
  rowWrite?: RowWrite;
}

/** First occurrence of an id wins inside a batch (a client may send the same key twice). */
function firstOfEachId(events: ReadonlyArray<SourcedEvent>): SourcedEvent[] {
  const seen = new Set<string>();
  return events.filter((e) => (seen.has(e.id) ? false : (seen.add(e.id), true)));
}

/**
 * Whether a worker looks up which of a batch's ids are already stored before trying the batch.
 * Almost every batch is new, and its transaction fails anyway if one of its rows is stored
 * already (unique id: the load or insert reports a duplicate and everything rolls back), so the
 * lookup (a primary-key probe per event, 10 % of the database's time in the benchmark) is skipped
 * until a duplicate turns up; then the batch is tried again with it, and so are the next
 * CHECK_FIRST_BATCHES batches, since duplicates come in runs (a replay, a producer's resend).
 */
const CHECK_FIRST_BATCHES = 50;

/** What a worker (its deps) remembers between batches. */
interface WorkerMemory {
  /** Batches left that look their ids up first (see CHECK_FIRST_BATCHES). */
  checkFirst: number;
  /** Balance rows seen to exist (see ensureBalanceRows). */
  knownBalanceRows: Set<string>;
}
const memories = new WeakMap<ApplyBatchDeps, WorkerMemory>();

function isDuplicateKey(err: unknown): boolean {
  return (err as { errno?: number }).errno === 1062;
}

/**
 * Applies a batch in ONE database transaction: only events not stored yet are inserted, and only
 * those move balances and rollups, so any replay of the same batch changes nothing.
 */
export async function applyBatchWith(deps: ApplyBatchDeps, input: ApplyBatchInput): Promise<ApplyBatchResult> {
  let memory = memories.get(deps);
  if (!memory) memories.set(deps, (memory = { checkFirst: 0, knownBalanceRows: new Set() }));
  const ownKeys = ownBalanceKeysOf(input.events);
  await ensureBalanceRows(deps.pool, ownKeys, memory.knownBalanceRows);
  let lookUp = memory.checkFirst > 0;
  if (lookUp) memory.checkFirst -= 1;
  // A deadlock or lock-wait timeout rolled the whole transaction back: run it again right here,
  // a few times with a short jitter, before falling back to Temporal's (slower) activity retry.
  for (let attempt = 1; ; attempt++) {
    try {
      const result = await applyOnce(deps, input, lookUp, ownKeys);
      if (lookUp && result.duplicates > 0) memory.checkFirst = CHECK_FIRST_BATCHES;
      if (deps.fraud && admissions.has(result)) deps.fraud.onReviewAdmission?.(admissions.get(result) as ReviewAdmission);
      if (deps.fraud && (result.reviews > 0 || result.duplicates > 0)) await startBatchReviews(deps.pool, deps.fraud, input.events.map((e) => e.id));
      if (deps.fraud) await sweepRoundTrips(deps.pool, deps.fraud, input.batchId, input.events);
      return result;
    } catch (err) {
      if (!lookUp && isDuplicateKey(err)) {
        lookUp = true;
        memory.checkFirst = CHECK_FIRST_BATCHES;
        attempt -= 1;
        continue;
      }
      if (!isRetryableDbError(err) || attempt >= IN_ACTIVITY_ATTEMPTS_MAX) throw err;
      await new Promise((r) => setTimeout(r, 5 + Math.floor(Math.random() * 20 * attempt)));
    }
  }
}

const IN_ACTIVITY_ATTEMPTS_MAX = 5;

/** The review admission of a committed attempt, by its result (reported once, after the commit). */
const admissions = new WeakMap<ApplyBatchResult, ReviewAdmission>();

/**
 * A packed batch (decision 012): unpacked and validated here, with the same pure rules the
 * workflow applied to inline batches, then applied like one. Validation is a function of the
 * events and the rules in the header only, so every attempt decides the same.
 */
export async function applyPackedBatchWith(deps: ApplyBatchDeps, input: ApplyPackedInput, packed: Uint8Array): Promise<ApplyBatchResult> {
  const events = await unpackEvents(packed, input.eventCount);
  return applyBatchWith(deps, { batchId: input.batchId, events, rejections: validateBatch(input.partitions, events, input.rules) });
}

/**
 * One attempt; `lookUp`: skip the ids already stored (else any stored id fails the attempt).
 * `eventKeys` are ownBalanceKeysOf(input.events): the same keys as the unique events' when no id
 * repeats (a repeated id may carry another account, and only its first copy counts).
 */
async function applyOnce(deps: ApplyBatchDeps, input: ApplyBatchInput, lookUp: boolean, eventKeys: string[]): Promise<ApplyBatchResult> {
  const unique = firstOfEachId(input.events);
  return inTransaction(deps.pool, async (conn) => {
    // Only the batch's own balance rows are locked (its partition's accounts); credits to other
    // accounts wait in balance_credits, and the credits waiting for our own accounts are folded in.
    const ownKeys = unique.length === input.events.length ? eventKeys : ownBalanceKeysOf(unique);
    const held = new Set(ownKeys);
    const locked = await lockBalances(conn, ownKeys);
    const pending = await readPendingCredits(conn, held);
    const balances = new Map(locked);
    for (const [key, sum] of pending.sums) balances.set(key, (balances.get(key) ?? 0n) + sum);
    const existing = lookUp ? await findExistingIds(conn, unique.map((e) => e.id)) : new Set<string>();
    const fresh = unique.filter((e) => !existing.has(e.id));
    const rejections = new Map(Object.entries(input.rejections) as Array<[string, RejectionReason]>);
    const outcome = decideBatch(fresh, rejections, balances, deps.overdraftLimitMinor);
    const { deltas, credits } = splitCredits(outcome, held);

    let deltaSum = 0n;
    for (const d of deltas.values()) deltaSum += d;
    for (const c of credits) deltaSum += c.amountMinor;
    invariant(deltaSum === netExternalFlow(outcome.decisions), 'transfers must net to zero', input.batchId);
    for (const [key, sum] of pending.sums) deltas.set(key, (deltas.get(key) ?? 0n) + sum);
    const fraud = deps.fraud ? await detectInTransaction(conn, deps.fraud, input.batchId, outcome.decisions) : undefined;

    await insertTransactions(conn, input.batchId, outcome.decisions, deps.rowWrite);
    await applyBalanceDeltas(conn, deltas);
    await deleteFoldedCredits(conn, pending.rows);
    await applyAccountRollups(conn, outcome.accountDays);
    // Rows every concurrent batch shares come last, so their locks are held only until the commit
    // (detection, above, runs before them for the same reason: docs/decisions/009-fraud-detection-cost.md).
    await insertPendingCredits(conn, credits);
    await applyRollups(conn, outcome.rollups);

    const rejectedByReason: Partial<Record<RejectionReason, number>> = {};
    let applied = 0;
    for (const d of outcome.decisions) {
      if (d.status === 'applied') applied += 1;
      else if (d.reason) rejectedByReason[d.reason] = (rejectedByReason[d.reason] ?? 0) + 1;
    }
    const result: ApplyBatchResult = {
      batchId: input.batchId,
      inserted: outcome.decisions.length,
      duplicates: input.events.length - fresh.length,
      applied,
      rejected: outcome.decisions.length - applied,
      rejectedByReason,
      flagged: fraud?.flags.length ?? 0,
      reviews: fraud?.reviews ?? 0,
    };
    if (fraud) admissions.set(result, fraud.admission);
    return result;
  });
}
