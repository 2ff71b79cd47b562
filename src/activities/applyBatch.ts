import { ApplicationFailure } from '@temporalio/common';
import { validateBatch } from '../domain/batch';
import { ownBalanceKeysOf } from '../domain/ledger';
import type { SourcedEvent } from '../domain/transaction';
import { classifyFailure, type Failure } from '../store/failures';
import { ensureBalanceRows } from '../store/ledger';
import { inTransaction, type Pool } from '../store/pool';
import type { Logger } from '../telemetry/log';
import { unpackEvents } from '../temporal/packedBatch';
import type { ApplyBatchInput, ApplyBatchResult, ApplyPackedInput } from '../workflows/types';
import { applyEventsIn, firstOfEachId, type ApplyEventsDeps } from './applyEvents';
import { startBatchReviews, sweepRoundTrips } from './fraud';
import { NeedsBalanceKeys, originalsOf, type EventOriginals } from './identity';
import { isolateBatch, storeRefusesPlainCredit } from './isolate';

/** What the worker learns from an apply: every failed try, every parked event, every systemic hold-back. */
export interface ApplyObserver {
  failure?(failure: Failure): void;
  parked?(failure: Failure): void;
  systemic?(failure: Failure): void;
}

export interface ApplyBatchDeps extends ApplyEventsDeps {
  pool: Pool;
  /** Attempts an unknown failure gets before it is isolated like a deterministic one (default 3). */
  unknownAttemptsMax?: number;
  /** The activity attempt (1-based) as Temporal counts it; 1 when called outside an activity. */
  attempt?: () => number;
  observe?: ApplyObserver;
  log?: Logger;
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
const IN_ACTIVITY_ATTEMPTS_MAX = 5;
const UNKNOWN_ATTEMPTS_MAX = 3;

/** What a worker (its deps) remembers between batches. */
interface WorkerMemory {
  /** Batches left that look their ids up first (see CHECK_FIRST_BATCHES). */
  checkFirst: number;
  /** Balance rows seen to exist (see ensureBalanceRows). */
  knownBalanceRows: Set<string>;
}
const memories = new WeakMap<ApplyBatchDeps, WorkerMemory>();

function memoryOf(deps: ApplyBatchDeps): WorkerMemory {
  let memory = memories.get(deps);
  if (!memory) memories.set(deps, (memory = { checkFirst: 0, knownBalanceRows: new Set() }));
  return memory;
}

function isDuplicateKey(err: unknown): boolean {
  return (err as { errno?: number }).errno === 1062;
}

/**
 * One transaction for `input`, run again right here a few times with a short jitter when it
 * deadlocked or waited too long for a lock, before falling back to Temporal's (slower) retry.
 * `lookUp`: look stored ids up first; without it a stored id fails the try, and it is tried again
 * with the lookup (see CHECK_FIRST_BATCHES). Every failed try is reported to `deps.observe`.
 */
async function applyWithQuickRetries(deps: ApplyBatchDeps, memory: WorkerMemory, input: ApplyBatchInput, lookUpFirst: boolean, originals: EventOriginals): Promise<ApplyBatchResult> {
  const keys = ownBalanceKeysOf(input.events);
  await ensureBalanceRows(deps.pool, keys, memory.knownBalanceRows);
  let lookUp = lookUpFirst;
  const extraKeys = new Set<string>();
  for (let attempt = 1; ; attempt++) {
    try {
      const result = await inTransaction(deps.pool, (conn) => applyEventsIn(conn, deps, input, lookUp, keys, { originals, extraKeys: [...extraKeys] }));
      if (lookUp && result.duplicates + result.conflicts > 0) memory.checkFirst = CHECK_FIRST_BATCHES;
      return result;
    } catch (err) {
      if (!lookUp && isDuplicateKey(err)) {
        lookUp = true;
        memory.checkFirst = CHECK_FIRST_BATCHES;
        attempt -= 1;
        continue;
      }
      // A supersession found rows of other accounts to reverse: run again holding them too (one
      // sorted lock pass). Bounded like the quick retries: a stored row changing under us each time.
      if (err instanceof NeedsBalanceKeys && attempt < IN_ACTIVITY_ATTEMPTS_MAX) {
        for (const key of err.keys) extraKeys.add(key);
        continue;
      }
      const failure = classifyFailure(err);
      deps.observe?.failure?.(failure);
      if (failure.class !== 'transient' || attempt >= IN_ACTIVITY_ATTEMPTS_MAX) throw err;
      await new Promise((r) => setTimeout(r, 5 + Math.floor(Math.random() * 20 * attempt)));
    }
  }
}

/** Retried by Temporal with backoff (its retry policy): the store takes no event now, and no event is to blame. */
function systemicFailure(failure: Failure, cause: unknown): ApplicationFailure {
  return ApplicationFailure.create({
    type: 'LF_STORE_SYSTEMIC',
    message: `the store refuses a plain credit too (${failure.code}: ${failure.message}); nothing is parked, the batch is retried`,
    nonRetryable: false,
    ...(cause instanceof Error ? { cause } : {}),
  });
}

/** After commit: reviews and the round-trip sweep over the events that were stored (both idempotent). */
async function afterCommit(deps: ApplyBatchDeps, batchId: string, events: ReadonlyArray<SourcedEvent>, result: ApplyBatchResult): Promise<void> {
  if (!deps.fraud) return;
  if (result.reviews > 0 || result.duplicates > 0 || result.isolationSteps > 0) await startBatchReviews(deps.pool, deps.fraud, events.map((e) => e.id));
  await sweepRoundTrips(deps.pool, deps.fraud, batchId, events);
}

/**
 * Applies a batch: ONE database transaction when nothing fails (the common path, unchanged by
 * what follows). A failure is classified (src/store/failures.ts, docs/decisions/020): transient
 * ones and, up to `unknownAttemptsMax` attempts, unknown ones go back to Temporal and are retried;
 * a systemic one is retried with backoff and nothing is parked; a deterministic one (or an
 * unknown one past its attempts) first asks the store to take a plain credit: if it refuses that
 * too, the fault is the store's (systemic); otherwise the batch is split until the events at
 * fault are found and parked, and the rest is applied.
 */
export async function applyBatchWith(deps: ApplyBatchDeps, input: ApplyBatchInput, packed?: Uint8Array): Promise<ApplyBatchResult> {
  const memory = memoryOf(deps);
  const lookUp = memory.checkFirst > 0;
  if (lookUp) memory.checkFirst -= 1;
  const originals = originalsOf(input.events, packed);
  let failure: Failure;
  try {
    const result = await applyWithQuickRetries(deps, memory, input, lookUp, originals);
    await afterCommit(deps, input.batchId, input.events, result);
    return result;
  } catch (err) {
    failure = classifyFailure(err);
    if (failure.class === 'transient') throw err;
    if (failure.class === 'systemic') {
      deps.observe?.systemic?.(failure);
      throw systemicFailure(failure, err);
    }
    if (failure.class === 'unknown' && (deps.attempt?.() ?? 1) < (deps.unknownAttemptsMax ?? UNKNOWN_ATTEMPTS_MAX)) throw err;
    const refused = await storeRefusesPlainCredit(deps, input);
    if (refused) {
      deps.observe?.systemic?.(refused);
      deps.log?.error({ batchId: input.batchId, code: failure.code, probe: refused.code, reason: refused.message }, 'the store refuses a plain credit too: systemic fault, nothing parked, retrying');
      throw systemicFailure(refused, err);
    }
  }
  const { result, parked } = await isolateBatch(deps, input, failure, (part) => applyWithQuickRetries(deps, memory, part, true, originals), originals);
  const parkedIds = new Set(parked.map((p) => `${p.partition}:${p.offset}`));
  await afterCommit(deps, input.batchId, firstOfEachId(input.events).filter((e) => !parkedIds.has(`${e.partition}:${e.offset}`)), result);
  deps.log?.warn({ batchId: input.batchId, events: input.events.length, parked: parked.length, isolationSteps: result.isolationSteps, code: failure.code }, 'batch isolated: the events at fault are parked, the rest applied');
  return result;
}

/**
 * A packed batch (decision 012): unpacked and validated here, with the same pure rules the
 * workflow applied to inline batches, then applied like one. Validation is a function of the
 * events and the rules in the header only, so every attempt decides the same; a blob that does
 * not unpack or breaks the batch's invariants fails the same way every time, so Temporal is told
 * not to retry it (the consumer fetches the slice again and builds a new one).
 */
export async function applyPackedBatchWith(deps: ApplyBatchDeps, input: ApplyPackedInput, packed: Uint8Array): Promise<ApplyBatchResult> {
  let events: SourcedEvent[];
  let rejections: ApplyBatchInput['rejections'];
  try {
    events = await unpackEvents(packed, input.eventCount);
    rejections = validateBatch(input.partitions, events, input.rules);
  } catch (err) {
    throw ApplicationFailure.create({ type: 'LF_INVALID_BATCH', message: `batch ${input.batchId} cannot be read: ${(err as Error).message}`, nonRetryable: true, ...(err instanceof Error ? { cause: err } : {}) });
  }
  return applyBatchWith(deps, { batchId: input.batchId, events, rejections }, packed);
}
