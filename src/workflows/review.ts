import { condition, defineQuery, defineSignal, proxyActivities, setHandler } from '@temporalio/workflow';
import type { ReviewActivityTypes, ReviewDecision, ReviewInput, ReviewOutcome } from './types';

/** A reviewer's decision, sent by the API (POST /reviews/:id/approve|reject). The first one counts. */
export const approveSignal = defineSignal<[ReviewDecision]>('approve');
export const rejectSignal = defineSignal<[ReviewDecision]>('reject');
export const reviewStateQuery = defineQuery<'waiting' | 'escalated' | 'decided'>('state');

const { escalateReview, decideReview } = proxyActivities<ReviewActivityTypes>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '500 ms', backoffCoefficient: 2, maximumInterval: '30 s' }, // idempotent: retried without limit
});

/**
 * Holds a suspicious transaction until a human decides. No decision within escalateAfterMs →
 * escalated (recorded, still waiting). A rejection reverses the balance effect exactly once (the
 * activity is guarded by the review's status in one database transaction).
 */
export async function reviewTransaction(input: ReviewInput): Promise<ReviewOutcome> {
  let decision: (ReviewDecision & { action: 'approve' | 'reject' }) | null = null;
  let state: 'waiting' | 'escalated' | 'decided' = 'waiting';
  setHandler(approveSignal, (d) => void (decision ??= { ...d, action: 'approve' }));
  setHandler(rejectSignal, (d) => void (decision ??= { ...d, action: 'reject' }));
  setHandler(reviewStateQuery, () => state);

  let escalated = false;
  if (!(await condition(() => decision !== null, input.escalateAfterMs))) {
    await escalateReview({ txId: input.txId });
    escalated = true;
    state = 'escalated';
    await condition(() => decision !== null);
  }
  const made = decision as unknown as ReviewDecision & { action: 'approve' | 'reject' };
  const result = await decideReview({ txId: input.txId, action: made.action, actor: made.actor, reason: made.reason });
  state = 'decided';
  return { txId: input.txId, status: result.status, reversed: result.reversed, escalated };
}
