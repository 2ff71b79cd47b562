import { newTransactionId } from '../domain/ids';
import { ownBalanceKeysOf } from '../domain/ledger';
import type { RejectionReason } from '../domain/rules';
import type { SourcedEvent } from '../domain/transaction';
import { classifyFailure, type Failure } from '../store/failures';
import { parkEvents, type ParkedEventInput } from '../store/parked';
import { inTransaction } from '../store/pool';
import type { ApplyBatchInput, ApplyBatchResult } from '../workflows/types';
import { applyEventsIn } from './applyEvents';
import type { ApplyBatchDeps } from './applyBatch';
import type { EventOriginals } from './identity';

/** The account of the synthetic credit that asks the store whether it takes any event at all. */
export const PROBE_ACCOUNT = 'ledgerflow-probe';

class ProbeRollback extends Error {}

/**
 * Whether the store refuses a plain credit too: one synthetic credit of 1 minor unit to
 * PROBE_ACCOUNT, in the batch's currency, now, through the same transaction body, always rolled
 * back. Its failure (other than a transient one) is the store's, not any event's: a systemic
 * fault (docs/decisions/020-poison-isolation.md). Returns that failure, or null when the store
 * took it.
 */
export async function storeRefusesPlainCredit(deps: ApplyBatchDeps, input: ApplyBatchInput): Promise<Failure | null> {
  const sample = input.events[0];
  const probe: SourcedEvent = {
    id: newTransactionId(),
    account: PROBE_ACCOUNT,
    type: 'credit',
    amountMinor: '1',
    currency: sample?.currency ?? 'EUR',
    occurredAt: new Date().toISOString(),
    partition: sample?.partition ?? 0,
    offset: sample?.offset ?? '0',
  };
  try {
    await inTransaction(deps.pool, async (conn) => {
      await applyEventsIn(conn, deps, { batchId: `${input.batchId}/probe`, events: [probe], rejections: {} }, false, ownBalanceKeysOf([probe]));
      throw new ProbeRollback();
    });
  } catch (err) {
    if (err instanceof ProbeRollback) return null;
    const failure = classifyFailure(err);
    if (failure.class === 'transient') throw err;
    return failure;
  }
  return null;
}

/** Applies part of a batch in its own transaction (lookUp on), with the caller's quick retries. */
export type ApplyPart = (input: ApplyBatchInput) => Promise<ApplyBatchResult>;

/**
 * Splits a batch that failed deterministically until the events at fault are found
 * (docs/decisions/020-poison-isolation.md): halves in batch order, the first applied (committed)
 * before the second, so every partition's offset order and every account's order of application
 * hold; each part is its own transaction and idempotent (its stored ids are skipped). A single
 * event that still fails is parked at once (its own transaction), so a retried attempt after a
 * crash or timeout skips the work already done: applied parts as duplicates, parked events by
 * failing alone again (their row is updated, not added). A transient or systemic failure of a
 * part ends the attempt (Temporal retries it); anything else splits further.
 */
export async function isolateBatch(deps: ApplyBatchDeps, input: ApplyBatchInput, whole: Failure, applyPart: ApplyPart, originals: EventOriginals): Promise<{ result: ApplyBatchResult; parked: ParkedEventInput[] }> {
  const events = input.events;
  const results: ApplyBatchResult[] = [];
  const parked: ParkedEventInput[] = [];
  let steps = 0;

  const park = async (index: number, failure: Failure) => {
    const event = events[index] as SourcedEvent;
    const { bytes, exact } = await originals.of(event);
    const row: ParkedEventInput = {
      topic: deps.topic ?? 'transactions',
      partition: event.partition,
      offset: event.offset,
      txId: event.id,
      account: event.account,
      batchId: input.batchId,
      code: failure.code,
      errno: failure.errno,
      reason: failure.message,
      payload: bytes,
      payloadExact: exact,
    };
    await parkEvents(deps.pool, [row]);
    parked.push(row);
    deps.observe?.parked?.(failure);
    deps.log?.warn({ batchId: input.batchId, partition: event.partition, offset: event.offset, txId: event.id, code: failure.code, reason: failure.message }, 'event parked: the store refuses it (ledgerflow parked show)');
  };

  const visit = async (lo: number, hi: number, known: Failure | null): Promise<void> => {
    let failure = known;
    if (failure === null) {
      steps += 1;
      try {
        results.push(await applyPart({ batchId: input.batchId, events: events.slice(lo, hi), rejections: input.rejections }));
        return;
      } catch (err) {
        failure = classifyFailure(err);
        if (failure.class === 'transient' || failure.class === 'systemic') throw err;
      }
    }
    if (hi - lo === 1) return park(lo, failure);
    const mid = lo + Math.floor((hi - lo) / 2);
    await visit(lo, mid, null);
    await visit(mid, hi, null);
  };

  await visit(0, events.length, whole);
  return { result: mergeResults(input.batchId, results, parked.length, steps), parked };
}

/** The results of a batch's parts as one, with what isolation parked and how many parts it tried. */
function mergeResults(batchId: string, parts: ReadonlyArray<ApplyBatchResult>, parked: number, isolationSteps: number): ApplyBatchResult {
  const merged: ApplyBatchResult = { batchId, inserted: 0, duplicates: 0, applied: 0, rejected: 0, rejectedByReason: {}, flagged: 0, reviews: 0, parked, isolationSteps, conflicts: 0, superseded: 0, returned: 0 };
  for (const r of parts) {
    merged.returned += r.returned;
    merged.conflicts += r.conflicts;
    merged.superseded += r.superseded;
    merged.inserted += r.inserted;
    merged.duplicates += r.duplicates;
    merged.applied += r.applied;
    merged.rejected += r.rejected;
    merged.flagged += r.flagged;
    merged.reviews += r.reviews;
    for (const [reason, n] of Object.entries(r.rejectedByReason) as Array<[RejectionReason, number]>) merged.rejectedByReason[reason] = (merged.rejectedByReason[reason] ?? 0) + n;
  }
  return merged;
}
