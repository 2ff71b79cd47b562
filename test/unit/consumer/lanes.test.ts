import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KafkaMessage } from 'kafkajs';
import { gatherSlice, Lane } from '../../../src/consumer/lanes';

const messages = (from: number, to: number): KafkaMessage[] =>
  Array.from({ length: to - from + 1 }, (_, i) => ({ offset: String(from + i), key: null, value: Buffer.from('{}'), timestamp: '0', attributes: 0, headers: {} }) as KafkaMessage);
const offsets = (ms: KafkaMessage[]) => ms.map((m) => Number(m.offset));

test('a lane hands out slices in offset order, one at a time, at most max long', () => {
  const lane = new Lane(3);
  assert.deepEqual(lane.offer(messages(10, 14), 10n), { kind: 'queued', accepted: 5 });
  assert.deepEqual(lane.offer(messages(15, 16), 15n), { kind: 'queued', accepted: 2 });
  assert.deepEqual(offsets(lane.take(4)), [10, 11, 12, 13]);
  assert.deepEqual(lane.inFlight, { first: 10n, last: 13n });
  assert.throws(() => lane.take(4), /one slice at a time/);
  lane.committed();
  assert.deepEqual(offsets(lane.take(4)), [14, 15, 16]);
  lane.committed();
  assert.equal(lane.queued, 0);
});

test('a redelivery of offsets the lane holds is dropped; a fetch past them asks for a rewind', () => {
  const lane = new Lane(0);
  lane.offer(messages(0, 9), 0n);
  assert.deepEqual(lane.offer(messages(5, 12), 5n), { kind: 'queued', accepted: 3 });
  assert.deepEqual(lane.offer(messages(20, 25), 20n), { kind: 'rewind', seekTo: 13n });
  assert.equal(lane.queued, 13);
  // A first fetch (nothing held yet) is taken from wherever kafkajs starts.
  assert.deepEqual(new Lane(1).offer(messages(500, 501), 500n), { kind: 'queued', accepted: 2 });
});

test('a failed slice drops the queue behind it and is fetched again from its first offset', () => {
  const lane = new Lane(0);
  lane.offer(messages(0, 9), 0n);
  lane.take(5);
  lane.committed();
  lane.take(3);
  assert.equal(lane.failed(), 5n);
  assert.equal(lane.queued, 0);
  assert.equal(lane.inFlight, null);
  // Batches fetched before the seek start past offset 5: they are refused until the fetch from 5 arrives.
  assert.deepEqual(lane.offer(messages(10, 12), 10n), { kind: 'rewind', seekTo: 5n });
  assert.deepEqual(lane.offer(messages(5, 12), 5n), { kind: 'queued', accepted: 8 });
});

test('after a rejoin the queue is dropped and only applied or in-flight offsets count as held', () => {
  const lane = new Lane(0);
  lane.offer(messages(0, 29), 0n);
  lane.take(10);
  lane.committed();
  lane.take(10); // 10..19 in flight
  lane.rejoined();
  assert.equal(lane.queued, 0);
  // kafkajs fetches again from the committed offset (10): what is in flight is skipped, the rest queued.
  assert.deepEqual(lane.offer(messages(10, 29), 10n), { kind: 'queued', accepted: 10 });
  lane.committed();
  assert.deepEqual(offsets(lane.take(100)), Array.from({ length: 10 }, (_, i) => 20 + i));
  // Idle at a rejoin: held up to the last commit.
  const idle = new Lane(1);
  idle.offer(messages(0, 4), 0n);
  idle.take(5);
  idle.committed();
  idle.rejoined();
  assert.deepEqual(idle.offer(messages(7, 8), 7n), { kind: 'rewind', seekTo: 5n });
});

test('a batch gathers the longest-waiting lanes, whole, up to eventsMax events and partsMax partitions', () => {
  const lanes = [0, 1, 2, 3].map((p) => new Lane(p));
  lanes[0]!.offer(messages(0, 29), 0n);
  lanes[1]!.offer(messages(0, 9), 0n);
  lanes[2]!.offer(messages(0, 99), 0n);
  lanes[3]!.offer(messages(0, 99), 0n);
  // Light load: several partitions in one batch, each giving what it holds; the last one fills the room.
  const first = gatherSlice(lanes, 60, 3);
  assert.deepEqual(first.map((p) => [p.lane.partition, p.messages.length]), [[0, 30], [1, 10], [2, 20]]);
  // Lanes with a slice in flight wait; partition 3 was not served yet. A backlog: one lane fills a batch.
  const second = gatherSlice(lanes, 50, 3);
  assert.deepEqual(second.map((p) => [p.lane.partition, p.messages.length]), [[3, 50]]);
  // fullOnly: nothing is taken unless the batch would be full.
  for (const lane of lanes) if (lane.inFlight) lane.committed();
  assert.deepEqual(gatherSlice(lanes, 1000, 4, true), []);
  assert.equal(lanes[2]!.queued, 80);
  const third = gatherSlice(lanes, 100, 4, true);
  assert.deepEqual(third.map((p) => [p.lane.partition, offsets(p.messages)[0], p.messages.length]), [[2, 20, 80], [3, 50, 20]]);
  // Orphaned lanes are never gathered.
  lanes[2]!.committed();
  lanes[3]!.committed();
  lanes[3]!.orphaned = true;
  assert.deepEqual(gatherSlice(lanes, 1000, 4), []);
  assert.throws(() => gatherSlice(lanes, 0, 1), /at least one event/);
});

test('a lane assigned elsewhere drops its queue (a fetch waiting for room stops), keeps its slice, and is never gathered', () => {
  const lane = new Lane(6);
  const other = new Lane(7);
  lane.offer(messages(0, 19), 0n);
  other.offer(messages(0, 4), 0n);
  lane.take(10);
  lane.orphan();
  // What was queued is the new owner's to fetch; nothing would ever take it from here.
  assert.equal(lane.queued, 0);
  assert.equal(lane.orphaned, true);
  // The slice in flight finishes (or fails) as before, without a commit.
  assert.deepEqual(lane.inFlight, { first: 0n, last: 9n });
  assert.equal(lane.failed(), 0n);
  lane.offer(messages(20, 25), 20n);
  assert.deepEqual(gatherSlice([lane, other], 100, 2).map((p) => p.lane.partition), [7]);
});
