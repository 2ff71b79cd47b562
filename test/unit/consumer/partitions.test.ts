import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkPartitionCap } from '../../../src/consumer/partitions';

test('a topic with fewer partitions than the replica cap is refused: consumers up to the cap would idle', () => {
  const check = checkPartitionCap('transactions', 2, 12);
  assert.equal(check.ok, false);
  assert.equal(check.topicPartitions, 2);
  assert.equal(check.capPartitions, 12);
  assert.match(check.message ?? '', /has 2 partitions but kafka\.partitions \(LF_KAFKA_PARTITIONS\) is 12/);
  assert.match(check.message ?? '', /up to 10 consumer replicas would get no partition/);
  assert.match(check.message ?? '', /set kafka\.partitions to 2/);
});

test('a topic with more partitions than the cap is accepted with a warning (headroom lost, nobody idles)', () => {
  const check = checkPartitionCap('transactions', 24, 12);
  assert.equal(check.ok, true);
  assert.match(check.message ?? '', /capped at 12 replicas, below the 24/);
});

test('a topic whose partitions match the cap is accepted silently', () => {
  assert.deepEqual(checkPartitionCap('transactions', 12, 12), { ok: true, topicPartitions: 12, capPartitions: 12 });
});
