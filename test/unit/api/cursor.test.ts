import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CURSOR_PATTERN, cursorSchema, decodeCursor, encodeCursor } from '../../../src/api/schemas';
import { batchWorkflowId, transactionIdFromKey } from '../../../src/domain/ids';

test('cursors round-trip; every string the contract allows decodes, and others are refused', () => {
  const c = { at: '2026-11-25T08:00:00.123Z', id: '019a0000-0000-7000-8000-000000000001' };
  assert.deepEqual(decodeCursor(encodeCursor(c.at, c.id)), c);
  assert.match(encodeCursor(c.at, c.id), CURSOR_PATTERN);
  for (const edge of ['0_019a0000-0000-7000-8000-000000000001', '999999999999999_019a0000-0000-7000-8000-000000000001']) {
    assert.ok(cursorSchema.safeParse(edge).success);
    assert.ok(Number.isFinite(Date.parse(decodeCursor(edge).at)), edge);
  }
  for (const bad of ['', 'nope', Buffer.from('["x","y"]').toString('base64url'), '1_019A0000-0000-7000-8000-000000000001', '1_x']) {
    assert.equal(cursorSchema.safeParse(bad).success, false, bad);
  }
});

test('ids from an Idempotency-Key are stable per client, key and item', () => {
  assert.equal(transactionIdFromKey('shop', 'order-123', 0), transactionIdFromKey('shop', 'order-123', 0));
  assert.notEqual(transactionIdFromKey('shop', 'order-123', 0), transactionIdFromKey('shop', 'order-123', 1));
  assert.notEqual(transactionIdFromKey('shop', 'order-123', 0), transactionIdFromKey('shop', 'order-124', 0));
  assert.notEqual(transactionIdFromKey('shop', 'order-123', 0), transactionIdFromKey('other-shop', 'order-123', 0), 'keys are scoped to the client');
  assert.equal(batchWorkflowId('transactions', 2, '1500'), 'tx-transactions-2-1500');
});
