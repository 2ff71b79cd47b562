import { patched, proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import { invariant } from '../domain/errors';
import { checkStatelessRules, type RejectionReason } from '../domain/rules';
import type { ActivityTypes, ApplyBatchResult, ProcessBatchInput } from './types';

/**
 * The database transaction may hit a deadlock, a lock-wait timeout or a database restart: it is
 * retried without limit (each attempt is idempotent), because giving up would strand the batch.
 */
const RETRY = { initialInterval: '200 ms', backoffCoefficient: 2, maximumInterval: '10 s' } as const; // no maximumAttempts: unlimited

/**
 * Since the `apply-as-local-activity` patch: a local activity, run by the worker that runs the
 * workflow task. The batch's events then cross Temporal once (the workflow input) instead of three
 * times (input, activity schedule, activity task), and the batch needs one workflow task instead
 * of an activity task between two workflow tasks (issue 5). A killed worker's attempt is retried
 * when its workflow task times out (10 s), as the remote activity's heartbeat timeout did.
 */
const { applyBatch: applyBatchLocally } = proxyLocalActivities<ActivityTypes>({
  startToCloseTimeout: '2 minutes',
  retry: RETRY,
});

/** Histories from before the patch scheduled a remote activity; the worker heartbeats it. */
const { applyBatch } = proxyActivities<ActivityTypes>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '10 s',
  retry: RETRY,
});

export async function processBatch(input: ProcessBatchInput): Promise<ApplyBatchResult> {
  // Each partition's events in offset order; a batch may cover several partitions (their parts).
  const previous = new Map<number, bigint>((input.parts ?? [input]).map((p) => [p.partition, -1n]));
  for (const event of input.events) {
    const offset = BigInt(event.offset);
    const before = previous.get(event.partition);
    invariant(before !== undefined && offset > before, "batch events must be in their partition's offset order", event.offset);
    previous.set(event.partition, offset);
  }
  // Keyed by id, so only the first occurrence of an id decides: a later copy with other content
  // (same Idempotency-Key reused) must not reject the one that is stored.
  const rejections: Record<string, RejectionReason> = {};
  const seen = new Set<string>();
  for (const event of input.events) {
    if (seen.has(event.id)) continue;
    seen.add(event.id);
    const reason = checkStatelessRules(event, input.rules);
    if (reason !== null) rejections[event.id] = reason;
  }
  const applyInput = { batchId: input.batchId, events: input.events, rejections };
  return patched('apply-as-local-activity') ? applyBatchLocally(applyInput) : applyBatch(applyInput);
}
