import assert from 'node:assert/strict';
import { test } from 'node:test';
import { validateBatch } from '../../../src/domain/batch';
import type { SourcedEvent } from '../../../src/domain/transaction';

const rules = { maxAmountMinor: '1000', currencies: ['EUR'] };
const ev = (id: number, partition: number, offset: number, amountMinor = '10'): SourcedEvent => ({
  id: `019a0000-0000-7000-8000-${String(id).padStart(12, '0')}`,
  account: `acc-${partition}`,
  type: 'credit',
  amountMinor,
  currency: 'EUR',
  occurredAt: '2026-11-25T08:01:30.000Z',
  partition,
  offset: String(offset),
});

test('a batch over two partitions in their offset orders: rejections by id', () => {
  const events = [ev(1, 0, 7), ev(2, 0, 8, '1001'), ev(3, 4, 2), ev(4, 4, 9, '5000')];
  assert.deepEqual(validateBatch([0, 4], events, rules), { [events[1]!.id]: 'over_limit', [events[3]!.id]: 'over_limit' });
});

test('the first occurrence of an id decides: a later copy with other content does not reject it', () => {
  const first = ev(1, 0, 1);
  const copy = { ...ev(1, 0, 2, '99999') };
  assert.deepEqual(validateBatch([0], [first, copy], rules), {});
  assert.deepEqual(validateBatch([0], [copy, { ...first, offset: '3' }], rules), { [first.id]: 'over_limit' });
});

test('events out of their partition offset order, or of a partition not in the batch, are refused', () => {
  assert.throws(() => validateBatch([0], [ev(1, 0, 5), ev(2, 0, 5)], rules), { code: 'LF_INVARIANT', message: /offset order/ });
  assert.throws(() => validateBatch([0], [ev(1, 0, 5), ev(2, 0, 4)], rules), { code: 'LF_INVARIANT' });
  assert.throws(() => validateBatch([0], [ev(1, 1, 0)], rules), { code: 'LF_INVARIANT' });
});
