import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeCursor, encodeCursor } from '../../../src/api/reads';
import { transactionIdFromKey, batchWorkflowId } from '../../../src/domain/ids';

test('cursors round-trip and garbage is refused', () => {
  const c = { occurredAt: '2026-11-25T08:00:00.000Z', id: '019a0000-0000-7000-8000-000000000001' };
  assert.deepEqual(decodeCursor(encodeCursor(c)), c);
  assert.equal(decodeCursor('nope'), null);
  assert.equal(decodeCursor(Buffer.from('["x","y"]').toString('base64url')), null);
});

test('ids from an Idempotency-Key are stable per key and item', () => {
  assert.equal(transactionIdFromKey('order-123', 0), transactionIdFromKey('order-123', 0));
  assert.notEqual(transactionIdFromKey('order-123', 0), transactionIdFromKey('order-123', 1));
  assert.notEqual(transactionIdFromKey('order-123', 0), transactionIdFromKey('order-124', 0));
  assert.equal(batchWorkflowId('transactions', 2, '1500'), 'tx-transactions-2-1500');
});
