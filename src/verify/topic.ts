import type { KafkaMessage } from 'kafkajs';
import { canonicalContent, comparePositions, contentOf } from '../domain/identity';
import { parseEvent, type TransactionEvent } from '../domain/transaction';

/** An event as the topic holds it, where it sits. */
export interface Occurrence {
  partition: number;
  offset: string;
  event: TransactionEvent;
}

/**
 * What the topic says should be stored (docs/decisions/021-one-id-one-payment.md): for each id, the
 * variant at the earliest position (lowest partition, then offset) among the occurrences that were
 * not parked, and every other occurrence of it. Parked occurrences (refused by the store, kept for
 * an operator) are kept apart.
 */
export class TopicIds {
  readonly winners = new Map<string, Occurrence>();
  /** Occurrences of an id other than its winner (only ids seen more than once). */
  readonly others = new Map<string, Occurrence[]>();
  readonly parked = new Map<string, Occurrence>();
  readonly malformed = new Set<string>();
  produced = 0;

  constructor(private readonly parkedSources: ReadonlySet<string>) {}

  add(partition: number, message: KafkaMessage): void {
    this.produced += 1;
    const at = `${partition}:${message.offset}`;
    const parsed = parseEvent(message.value);
    if (!parsed.ok) {
      this.malformed.add(at);
      return;
    }
    const occurrence = { partition, offset: message.offset, event: parsed.event };
    if (this.parkedSources.has(at)) {
      this.parked.set(parsed.event.id, occurrence);
      return;
    }
    const winner = this.winners.get(parsed.event.id);
    if (!winner) {
      this.winners.set(parsed.event.id, occurrence);
      return;
    }
    const others = this.others.get(parsed.event.id) ?? [];
    if (comparePositions(occurrence, winner) < 0) {
      others.push(winner);
      this.winners.set(parsed.event.id, occurrence);
    } else others.push(occurrence);
    this.others.set(parsed.event.id, others);
  }

  /**
   * Every occurrence that is not the winner: a duplicate send when its content is the winner's,
   * else a conflict, by "<id>@<partition>:<offset>".
   */
  repeats(): { duplicateSends: number; conflicts: Map<string, Occurrence> } {
    let duplicateSends = 0;
    const conflicts = new Map<string, Occurrence>();
    for (const [id, others] of this.others) {
      const winner = canonicalContent(contentOf((this.winners.get(id) as Occurrence).event));
      for (const o of others) {
        if (canonicalContent(contentOf(o.event)) === winner) duplicateSends += 1;
        else conflicts.set(`${id}@${o.partition}:${o.offset}`, o);
      }
    }
    return { duplicateSends, conflicts };
  }
}
