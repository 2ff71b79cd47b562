import assert from 'node:assert/strict';
import { test } from 'node:test';
import { forEachInFlight } from '../../../src/temporal/inFlight';

test('every item once, never more than the bound at a time', async () => {
  let pending = 0;
  let most = 0;
  const seen: number[] = [];
  await forEachInFlight([...Array(50).keys()], 4, async (i) => {
    pending += 1;
    most = Math.max(most, pending);
    await new Promise((r) => setTimeout(r, i % 3));
    seen.push(i);
    pending -= 1;
  });
  assert.deepEqual(seen.sort((a, b) => a - b), [...Array(50).keys()]);
  assert.equal(most, 4);
  await forEachInFlight([], 4, async () => assert.fail('no items, no calls'));
});

test('a failure rejects the whole run', async () => {
  await assert.rejects(
    forEachInFlight([1, 2, 3], 2, async (i) => {
      if (i === 2) throw new Error('boom 2');
    }),
    /boom 2/,
  );
});
