import type { KafkaMessage } from 'kafkajs';
import { invariant } from '../domain/errors';
import { batchWorkflowId } from '../domain/ids';
import type { StatelessRules } from '../domain/rules';
import { parseEvent } from '../domain/transaction';
import type { BatchHeader, BatchPart } from '../workflows/types';
import type { Rejected } from './dlq';

/** One partition's share of a batch: consecutive messages in offset order. */
export interface SlicePart {
  partition: number;
  messages: ReadonlyArray<KafkaMessage>;
}

/** A message parsed once, when it is fetched: its event as JSON for the packed batch, or why it is malformed. */
export type PreparedMessage = { ok: true; json: string } | { ok: false; field: string; reason: string };

export interface SplitBatch {
  /** The workflow's first argument; the events, packed, are its second. */
  header: BatchHeader;
  /** Each valid event as JSON (with its partition and offset), in batch order. */
  eventJson: string[];
  /** Malformed messages by source partition (their DLQ headers name it). */
  malformed: Array<{ partition: number; rejected: Rejected[] }>;
}

/**
 * Parses and validates one message of `partition`; never throws. The event's JSON for the packed
 * batch is the message's own text with the source fields added before its closing brace when
 * nothing in it was normalised (JSON.parse reads both the same way, duplicate keys included),
 * else the event rendered again: rendering cost ~1.8 µs per event, a fifth of the consumer's
 * own time per event (issue 5).
 */
export function prepareMessage(message: KafkaMessage, partition: number): PreparedMessage {
  const parsed = parseEvent(message.value);
  if (!parsed.ok) return { ok: false, field: parsed.field, reason: parsed.reason };
  const source = `"partition":${partition},"offset":"${message.offset}"}`;
  const text = parsed.verbatim;
  // Reused only when the text is exactly the object (no space around it), so the message's bytes
  // can be read back from the packed batch if the event is ever parked (originalOf).
  if (text !== undefined && text.charCodeAt(0) === 0x7b && text.charCodeAt(text.length - 1) === 0x7d) {
    // An accepted event has fields, so text before the brace ends with a value: add a comma.
    return { ok: true, json: `${text.slice(0, -1)},${source}` };
  }
  // Rendered again: the message as sent rides along (rare: amounts as numbers, other time forms).
  const original = message.value === null ? '' : message.value.toString('utf8');
  return { ok: true, json: `${JSON.stringify(parsed.event).slice(0, -1)},"original":${JSON.stringify(original)},${source}` };
}

const PREPARED = Symbol('ledgerflow.prepared');
type Fetched = KafkaMessage & { [PREPARED]?: PreparedMessage };

/**
 * Prepares fetched messages while they wait in their lane, so parsing is off their batch's path.
 * The result rides on the message object itself (a WeakMap of every message in flight cost the
 * consumer more than it saved, in the garbage collector).
 */
export function prepareFetched(messages: ReadonlyArray<KafkaMessage>, partition: number): void {
  for (const m of messages as ReadonlyArray<Fetched>) m[PREPARED] ??= prepareMessage(m, partition);
}

/**
 * One slice of one or more partitions: valid events go to the workflow, malformed ones to the
 * DLQ; a message prepareFetched saw is not parsed again. The workflow id is the first part's
 * (partition, first offset), with the number of other parts appended when there are any, so a
 * one-partition batch keeps its old id.
 */
export function buildBatch(topic: string, parts: ReadonlyArray<SlicePart>, rules: StatelessRules, nowMs: number): SplitBatch {
  invariant(parts.length > 0 && parts.every((p) => p.messages.length > 0), 'a batch has at least one message in every part');
  const eventJson: string[] = [];
  const malformed: SplitBatch['malformed'] = [];
  const ranges: BatchPart[] = [];
  for (const { partition, messages } of parts) {
    const rejected: Rejected[] = [];
    for (const message of messages) {
      const p = (message as Fetched)[PREPARED] ?? prepareMessage(message, partition);
      if (p.ok) eventJson.push(p.json);
      else rejected.push({ message, field: p.field, reason: p.reason });
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
      eventCount: eventJson.length,
      rules,
      receivedAtMs: nowMs,
    },
    eventJson,
    malformed,
  };
}

/**
 * A slice cut in two by message count, in offset order: the first half's parts, then the second's
 * (a part split in the middle appears in both). For a batch too large to pack as one payload.
 */
export function halveSlice<P extends SlicePart>(parts: ReadonlyArray<P>): [P[], P[]] {
  const total = parts.reduce((acc, p) => acc + p.messages.length, 0);
  invariant(total > 1, 'only a slice of two or more messages can be halved');
  let left = Math.floor(total / 2);
  const first: P[] = [];
  const second: P[] = [];
  for (const part of parts) {
    if (left >= part.messages.length) {
      first.push(part);
      left -= part.messages.length;
    } else if (left > 0) {
      first.push({ ...part, messages: part.messages.slice(0, left) });
      second.push({ ...part, messages: part.messages.slice(left) });
      left = 0;
    } else second.push(part);
  }
  return [first, second];
}
