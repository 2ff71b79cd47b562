import { proxyActivities } from '@temporalio/workflow';
import { invariant } from '../domain/errors';
import { checkStatelessRules, type RejectionReason } from '../domain/rules';
import type { ActivityTypes, ApplyBatchResult, ProcessBatchInput } from './types';

/**
 * The database transaction may hit a deadlock, a lock-wait timeout or a database restart: it is
 * retried without limit (each attempt is idempotent), because giving up would strand the batch.
 * The worker heartbeats while applying, so an attempt on a killed worker is retried after 10 s.
 */
const { applyBatch } = proxyActivities<ActivityTypes>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '10 s',
  retry: { initialInterval: '200 ms', backoffCoefficient: 2, maximumInterval: '10 s' }, // no maximumAttempts: unlimited
});

export async function processBatch(input: ProcessBatchInput): Promise<ApplyBatchResult> {
  let previous = -1n;
  for (const event of input.events) {
    const offset = BigInt(event.offset);
    invariant(offset > previous && event.partition === input.partition, 'batch events must be one partition in offset order', event.offset);
    previous = offset;
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
  return applyBatch({ batchId: input.batchId, events: input.events, rejections });
}
