import type { RejectionReason, StatelessRules } from '../domain/rules';
import type { SourcedEvent } from '../domain/transaction';

/** Small, typed, serialisable: what the consumer hands to one processBatch workflow. */
export interface ProcessBatchInput {
  batchId: string;
  topic: string;
  partition: number;
  firstOffset: string;
  lastOffset: string;
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
}

export interface ActivityTypes {
  applyBatch(input: ApplyBatchInput): Promise<ApplyBatchResult>;
}
