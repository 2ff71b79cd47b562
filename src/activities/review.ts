import { decide, escalate } from '../store/reviews';
import { inTransaction, type Pool } from '../store/pool';
import type { ReviewActivityTypes } from '../workflows/types';

/** Review activities: each is one database transaction, idempotent under retry. */
export function createReviewActivities(pool: Pool): ReviewActivityTypes {
  return {
    escalateReview: ({ txId }) => inTransaction(pool, (conn) => escalate(conn, txId)),
    decideReview: ({ txId, action, actor, reason }) => inTransaction(pool, (conn) => decide(conn, txId, action, actor, reason)),
  };
}
