import type { KafkaMessage } from 'kafkajs';
import { invariant } from '../domain/errors';

/** The offsets of the slice a lane is applying: committed as `last + 1` once its workflow completed. */
export interface SliceRange {
  first: bigint;
  last: bigint;
}

export type OfferOutcome = { kind: 'queued'; accepted: number } | { kind: 'rewind'; seekTo: bigint };

/**
 * One partition's queue between kafkajs's fetch loop and the workflow that applies it. Fetching
 * runs ahead (up to a bound) while one slice at a time is applied and committed, in offset order,
 * so a slow partition no longer holds back the fetch of the others, and the next slice is already
 * there (as large as what arrived meanwhile) when the previous one commits.
 *
 * The lane knows which offsets it holds: a redelivery of offsets it holds (after a rejoin) is
 * dropped, and a fetch that starts past them (it would skip offsets) is answered with a rewind.
 */
export class Lane {
  private queue: KafkaMessage[] = [];
  private slice: SliceRange | null = null;
  /** Highest offset queued, in flight or committed by this lane; null before the first fetch. */
  private heldUpTo: bigint | null = null;
  private committedUpTo: bigint | null = null;
  /** Set when the partition was assigned elsewhere: finish the slice in flight, commit nothing. */
  orphaned = false;
  /** When the lane last got a slice (a global sequence): the longest-waiting lanes go first. */
  servedSeq = 0;
  private static served = 0;

  constructor(readonly partition: number) {}

  get queued(): number {
    return this.queue.length;
  }

  get inFlight(): SliceRange | null {
    return this.slice;
  }

  /** The offset kafkajs fetches this partition from next (after what the lane holds); null before the first fetch. */
  get fetchFrom(): bigint | null {
    return this.heldUpTo === null ? null : this.heldUpTo + 1n;
  }

  /**
   * Appends a fetched batch. `fetchedOffset` is the offset kafkajs fetched from (undefined when
   * unknown); a fetch from beyond the held offsets would skip some, so the lane asks for a rewind.
   */
  offer(messages: ReadonlyArray<KafkaMessage>, fetchedOffset: bigint | undefined): OfferOutcome {
    if (this.heldUpTo !== null && fetchedOffset !== undefined && fetchedOffset > this.heldUpTo + 1n) {
      return { kind: 'rewind', seekTo: this.heldUpTo + 1n };
    }
    const fresh = this.heldUpTo === null ? messages : messages.filter((m) => BigInt(m.offset) > (this.heldUpTo as bigint));
    for (const m of fresh) this.queue.push(m);
    const last = fresh[fresh.length - 1];
    if (last) this.heldUpTo = BigInt(last.offset);
    return { kind: 'queued', accepted: fresh.length };
  }

  /** The next slice (≤ max messages, offset order) to apply; the lane holds one slice at a time. */
  take(max: number): KafkaMessage[] {
    invariant(this.slice === null, 'a lane applies one slice at a time');
    const messages = this.queue.splice(0, max);
    const first = messages[0];
    const last = messages[messages.length - 1];
    if (first && last) this.slice = { first: BigInt(first.offset), last: BigInt(last.offset) };
    this.servedSeq = ++Lane.served;
    return messages;
  }

  /** The slice in flight was applied and its offsets committed. */
  committed(): void {
    invariant(this.slice !== null, 'a commit needs a slice in flight');
    this.committedUpTo = this.slice.last;
    this.slice = null;
  }

  /**
   * The slice in flight failed: drop it and everything queued behind it, and return the offset to
   * fetch again from (the slice's first; nothing after it was committed).
   */
  failed(): bigint {
    invariant(this.slice !== null, 'a failure needs a slice in flight');
    const seekTo = this.slice.first;
    this.slice = null;
    this.queue = [];
    this.heldUpTo = seekTo - 1n;
    return seekTo;
  }

  /**
   * The partition was assigned elsewhere: the slice in flight finishes without a commit, and what
   * the lane queued is dropped (the new owner fetches it). Emptying the queue also ends a fetch's
   * wait for room in this lane, which would otherwise wait for ever: nothing takes slices from an
   * orphaned lane, and its heartbeats keep succeeding in the new generation.
   */
  orphan(): void {
    this.orphaned = true;
    this.queue = [];
  }

  /**
   * After a rejoin kafkajs fetches again from the group's committed offsets: drop the queue (it is
   * fetched again) and keep only what is applied or in flight as held.
   */
  rejoined(): void {
    this.queue = [];
    this.heldUpTo = this.slice ? this.slice.last : this.committedUpTo;
  }
}

/**
 * The next batch: lanes with messages and no slice in flight, those served longest ago first, each
 * giving what it holds until the batch has `eventsMax` events or `partsMax` partitions. Under light
 * load one batch covers several partitions (one workflow and one database transaction for all of
 * them); under a backlog one full lane fills a batch alone. With `fullOnly`, nothing is taken
 * unless the batch would be full.
 */
export function gatherSlice(lanes: Iterable<Lane>, eventsMax: number, partsMax: number, fullOnly = false): Array<{ lane: Lane; messages: KafkaMessage[] }> {
  invariant(eventsMax > 0 && partsMax > 0, 'a batch has room for at least one event of one partition');
  const ready = [...lanes].filter((l) => l.queued > 0 && l.inFlight === null && !l.orphaned);
  ready.sort((a, b) => a.servedSeq - b.servedSeq || a.partition - b.partition);
  const counts: Array<[Lane, number]> = [];
  let room = eventsMax;
  for (const lane of ready) {
    if (room === 0 || counts.length === partsMax) break;
    const n = Math.min(lane.queued, room);
    counts.push([lane, n]);
    room -= n;
  }
  if (counts.length === 0 || (fullOnly && room > 0)) return [];
  const parts = counts.map(([lane, n]) => ({ lane, messages: lane.take(n) }));
  parts.sort((a, b) => a.lane.partition - b.lane.partition);
  return parts;
}
