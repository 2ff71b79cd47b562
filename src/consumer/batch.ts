import type { KafkaMessage } from 'kafkajs';
import { invariant } from '../domain/errors';
import { batchWorkflowId } from '../domain/ids';
import type { StatelessRules } from '../domain/rules';
import { parseEvent, type SourcedEvent } from '../domain/transaction';
import type { ProcessBatchInput } from '../workflows/types';
import type { Rejected } from './dlq';

export interface SplitBatch {
  input: ProcessBatchInput;
  malformed: Rejected[];
}

/** Splits Kafka messages into ≤ max-sized slices (offset order is kept). */
export function slices<T>(items: ReadonlyArray<T>, max: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += max) out.push(items.slice(i, i + max));
  return out;
}

/** Parses one slice: valid events become the workflow input, malformed ones go to the DLQ. */
export function buildBatch(topic: string, partition: number, messages: ReadonlyArray<KafkaMessage>, rules: StatelessRules, nowMs: number): SplitBatch {
  invariant(messages.length > 0, 'a batch has at least one message');
  const events: SourcedEvent[] = [];
  const malformed: Rejected[] = [];
  for (const message of messages) {
    const parsed = parseEvent(message.value);
    if (parsed.ok) events.push({ ...parsed.event, partition, offset: message.offset });
    else malformed.push({ message, field: parsed.field, reason: parsed.reason });
  }
  const firstOffset = (messages[0] as KafkaMessage).offset;
  const lastOffset = (messages[messages.length - 1] as KafkaMessage).offset;
  return {
    input: {
      batchId: batchWorkflowId(topic, partition, firstOffset),
      topic,
      partition,
      firstOffset,
      lastOffset,
      events,
      rules,
      receivedAtMs: nowMs,
    },
    malformed,
  };
}
