import type { KafkaMessage } from 'kafkajs';
import { invariant } from '../domain/errors';
import { batchWorkflowId } from '../domain/ids';
import type { StatelessRules } from '../domain/rules';
import { parseEvent, type SourcedEvent } from '../domain/transaction';
import type { BatchHeader, BatchPart } from '../workflows/types';
import type { Rejected } from './dlq';

/** One partition's share of a batch: consecutive messages in offset order. */
export interface SlicePart {
  partition: number;
  messages: ReadonlyArray<KafkaMessage>;
}

export interface SplitBatch {
  /** The workflow's first argument; `events` (packed) is its second. */
  header: BatchHeader;
  events: SourcedEvent[];
  /** Malformed messages by source partition (their DLQ headers name it). */
  malformed: Array<{ partition: number; rejected: Rejected[] }>;
}

/**
 * Parses one slice of one or more partitions: valid events go to the workflow, malformed
 * ones go to the DLQ. The workflow id is the first part's (partition, first offset), with the
 * number of other parts appended when there are any, so a one-partition batch keeps its old id.
 */
export function buildBatch(topic: string, parts: ReadonlyArray<SlicePart>, rules: StatelessRules, nowMs: number): SplitBatch {
  invariant(parts.length > 0 && parts.every((p) => p.messages.length > 0), 'a batch has at least one message in every part');
  const events: SourcedEvent[] = [];
  const malformed: SplitBatch['malformed'] = [];
  const ranges: BatchPart[] = [];
  for (const { partition, messages } of parts) {
    const rejected: Rejected[] = [];
    for (const message of messages) {
      const parsed = parseEvent(message.value);
      if (parsed.ok) {
        // parseEvent returns a fresh object of its own: adding the source fields in place spares
        // a copy of every event (its spread was the consumer's hottest line after parsing).
        const event = parsed.event as SourcedEvent;
        event.partition = partition;
        event.offset = message.offset;
        events.push(event);
      } else rejected.push({ message, field: parsed.field, reason: parsed.reason });
    }
    if (rejected.length > 0) malformed.push({ partition, rejected });
    ranges.push({ partition, firstOffset: (messages[0] as KafkaMessage).offset, lastOffset: (messages[messages.length - 1] as KafkaMessage).offset });
  }
  const [first] = ranges as [BatchPart, ...BatchPart[]];
  const id = batchWorkflowId(topic, first.partition, first.firstOffset);
  return {
    header: {
      batchId: ranges.length > 1 ? `${id}+${ranges.length - 1}` : id,
      topic,
      partition: first.partition,
      firstOffset: first.firstOffset,
      lastOffset: first.lastOffset,
      ...(ranges.length > 1 ? { parts: ranges } : {}),
      eventCount: events.length,
      rules,
      receivedAtMs: nowMs,
    },
    events,
    malformed,
  };
}
