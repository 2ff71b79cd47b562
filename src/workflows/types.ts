import type { RejectionReason, StatelessRules } from '../domain/rules';
import type { SourcedEvent } from '../domain/transaction';

/** The offsets one partition contributes to a batch. */
export interface BatchPart {
  partition: number;
  firstOffset: string;
  lastOffset: string;
}

/**
 * What the consumer hands to one processBatch workflow, besides its events: the workflow's first
 * argument. The events follow as the second, a packed blob (`src/temporal/packedBatch.ts`): the
 * workflow passes it to its activity without reading it (decision 012).
 */
export interface BatchHeader {
  batchId: string;
  topic: string;
  /** The first (or only) part; `parts` lists every part when the batch covers several partitions. */
  partition: number;
  firstOffset: string;
  lastOffset: string;
  parts?: BatchPart[];
  /** Valid events in the packed blob (the activity checks the count). */
  eventCount: number;
  rules: StatelessRules;
  /** Producer→consumer timing is measured from this (ms since epoch, set by the consumer). */
  receivedAtMs: number;
}

/**
 * The single argument of workflows started before decision 012: the events inline, read and
 * checked by the workflow itself. Their histories still replay through that path.
 */
export interface ProcessBatchInput extends Omit<BatchHeader, 'eventCount'> {
  events: SourcedEvent[];
}

/** A packed batch's activity input: the header's part the activity needs; the blob is its second argument. */
export interface ApplyPackedInput {
  batchId: string;
  partitions: number[];
  eventCount: number;
  rules: StatelessRules;
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
  /**
   * Events the store refused for a lasting reason that is not a business rule, isolated from the
   * batch and parked (docs/decisions/020-poison-isolation.md); absent in results recorded before.
   */
  parked: number;
  /** Parts of the batch tried while isolating them (0: the batch applied as one transaction). */
  isolationSteps: number;
  /** Events whose id is stored with other content, recorded by this attempt (docs/decisions/021). */
  conflicts: number;
  /** Of those, stored rows this attempt replaced by a variant from an earlier position. */
  superseded: number;
  /**
   * Transfers from other partitions whose credit would have taken a balance of this batch past
   * its column: rejected (balance_overflow) when folded, their amount returned to the sender.
   */
  returned: number;
}

export interface ActivityTypes {
  /**
   * One database transaction for a batch. With `packed` (decision 012) it unpacks the events and
   * validates them (`validateBatch`) first; without, the events are inline and the workflow
   * decided the rejections (histories from before). One name for both, so traces, the worker's
   * metrics and the dashboards see one apply activity.
   */
  applyBatch(input: ApplyBatchInput): Promise<ApplyBatchResult>;
  applyBatch(input: ApplyPackedInput, packed: Uint8Array): Promise<ApplyBatchResult>;
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
