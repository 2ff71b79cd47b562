import assert from 'node:assert/strict';
import { test } from 'node:test';
import { phaseOrder } from '../../../src/fraud/overhead';

test('each pair of rounds runs detection first once and last once (ABBA), so drift through the run cancels', () => {
  for (const rounds of [2, 4, 6]) {
    const orders = Array.from({ length: rounds }, (_, i) => phaseOrder(i + 1));
    for (const order of orders) assert.deepEqual([...order].sort(), ['off', 'on'], 'a round measures both sides once');
    const onFirst = orders.filter((o) => o[0] === 'on').length;
    assert.equal(onFirst, rounds / 2, `${rounds} rounds: detection first in half of them`);
  }
  assert.deepEqual(phaseOrder(1), ['off', 'on']);
  assert.deepEqual(phaseOrder(2), ['on', 'off']);
});
