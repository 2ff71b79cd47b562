import type { RejectionReason, StatelessRules } from '../domain/rules';
import type { SourcedEvent } from '../domain/transaction';

/** The offsets one partition contributes to a batch. */
export interface BatchPart {
  partition: number;
  firstOffset: string;
  lastOffset: string;
}

/** Small, typed, serialisable: what the consumer hands to one processBatch workflow. */
export interface ProcessBatchInput {
  batchId: string;
  topic: string;
  /** The first (or only) part; `parts` lists every part when the batch covers several partitions. */
  partition: number;
  firstOffset: string;
  lastOffset: string;
  parts?: BatchPart[];
  events: SourcedEvent[];
  rules: StatelessRules;
  /** Producer→consumer timing is measured from this (ms since epoch, set by the consumer). */
  receivedAtMs: number;
}

export interface ApplyBatchInput {
  batchId: string;
  events: SourcedEvent[];
  /** Stateless rejections decided by the workflow, by transaction id. */
  rejections: Record<string, RejectionReason>;
}

export interface ApplyBatchResult {
  batchId: string;
  /** Rows this attempt inserted (applied + rejected). */
  inserted: number;
  /** Events already stored before this attempt: replays and duplicate sends. */
  duplicates: number;
  applied: number;
  rejected: number;
  rejectedByReason: Partial<Record<RejectionReason, number>>;
  /** Transactions this attempt flagged as possible fraud (0 when detection is off). */
  flagged: number;
  /** Reviews this attempt opened. */
  reviews: number;
}

export interface ActivityTypes {
  applyBatch(input: ApplyBatchInput): Promise<ApplyBatchResult>;
}

/** Input of reviewTransaction (workflow id review-<txId>). */
export interface ReviewInput {
  txId: string;
  account: string;
  score: number;
  escalateAfterMs: number;
}

export interface ReviewDecision {
  actor: string;
  reason: string;
}

export interface ReviewOutcome {
  txId: string;
  status: 'approved' | 'rejected';
  reversed: boolean;
  escalated: boolean;
}

export interface DecideReviewInput extends ReviewDecision {
  txId: string;
  action: 'approve' | 'reject';
}

export interface ReviewActivityTypes {
  escalateReview(input: { txId: string }): Promise<void>;
  /** Records the decision; a rejection reverses the balance effect, once, in the same DB transaction. */
  decideReview(input: DecideReviewInput): Promise<{ status: 'approved' | 'rejected'; reversed: boolean }>;
}
