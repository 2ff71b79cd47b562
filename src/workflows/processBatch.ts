import { patched, proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import { validateBatch } from '../domain/batch';
import type { ActivityTypes, ApplyBatchResult, BatchHeader, ProcessBatchInput } from './types';

/**
 * The database transaction may hit a deadlock, a lock-wait timeout or a database restart: it is
 * retried without limit (each attempt is idempotent), because giving up would strand the batch.
 */
const RETRY = { initialInterval: '200 ms', backoffCoefficient: 2, maximumInterval: '10 s' } as const; // no maximumAttempts: unlimited

/**
 * Since the `apply-as-local-activity` patch: a local activity, run by the worker that runs the
 * workflow task. The batch's events then cross Temporal once (the workflow input) instead of three
 * times (input, activity schedule, activity task), and the batch needs one workflow task instead
 * of an activity task between two workflow tasks (docs/decisions/012-packed-batches.md). A killed worker's attempt is retried
 * when its workflow task times out (10 s), as the remote activity's heartbeat timeout did.
 */
const local = proxyLocalActivities<ActivityTypes>({
  startToCloseTimeout: '2 minutes',
  retry: RETRY,
});

/** Histories from before the patch scheduled a remote activity; the worker heartbeats it. */
const { applyBatch } = proxyActivities<ActivityTypes>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '10 s',
  retry: RETRY,
});

/**
 * One batch, one local activity, one database transaction. A batch started with its events packed
 * (`packed`, decision 012) hands the blob on unread: the activity validates and applies it. A
 * batch started before that carries its events inline and is validated here, as it was recorded.
 */
export async function processBatch(input: BatchHeader | ProcessBatchInput, packed?: Uint8Array): Promise<ApplyBatchResult> {
  const partitions = (input.parts ?? [input]).map((p) => p.partition);
  if (packed !== undefined) {
    const { batchId, rules, eventCount } = input as BatchHeader;
    return local.applyBatch({ batchId, partitions, eventCount, rules }, packed);
  }
  const { events } = input as ProcessBatchInput;
  const applyInput = { batchId: input.batchId, events, rejections: validateBatch(partitions, events, input.rules) };
  return patched('apply-as-local-activity') ? local.applyBatch(applyInput) : applyBatch(applyInput);
}
