import assert from 'node:assert/strict';
import { test } from 'node:test';
import { admitReviews } from '../../../src/activities/fraud';

const limits = { reviewOpensPerBatchMax: 25, reviewQueueMax: 1000 };

test('a batch opens its candidates while under both limits', () => {
  assert.deepEqual(admitReviews(3, 10, limits), { opened: 3, overBatchLimit: 0, queueFull: 0, queueDepth: 13 });
  assert.deepEqual(admitReviews(0, 10, limits), { opened: 0, overBatchLimit: 0, queueFull: 0, queueDepth: 10 });
});

test('a flood of candidates opens at most the batch limit', () => {
  assert.deepEqual(admitReviews(4000, 10, limits), { opened: 25, overBatchLimit: 3975, queueFull: 0, queueDepth: 35 });
});

test('a nearly full queue takes what fits; a full (or overfull) one takes nothing', () => {
  assert.deepEqual(admitReviews(20, 990, limits), { opened: 10, overBatchLimit: 0, queueFull: 10, queueDepth: 1000 });
  assert.deepEqual(admitReviews(20, 1000, limits), { opened: 0, overBatchLimit: 0, queueFull: 20, queueDepth: 1000 });
  assert.deepEqual(admitReviews(40, 1030, limits), { opened: 0, overBatchLimit: 15, queueFull: 25, queueDepth: 1030 });
});

test('without a queue limit only the batch limit applies', () => {
  assert.deepEqual(admitReviews(40, 5000, { reviewOpensPerBatchMax: 25 }), { opened: 25, overBatchLimit: 15, queueFull: 0, queueDepth: 5025 });
});
