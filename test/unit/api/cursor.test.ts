import assert from 'node:assert/strict';
import { test } from 'node:test';
import { conflictCursorSchema, CURSOR_PATTERN, cursorSchema, decodeCursor, encodeCursor, parkedCursorSchema, parkedIdSchema } from '../../../src/api/schemas';
import { conflictId } from '../../../src/store/conflicts';
import { parkedId, parseParkedId } from '../../../src/store/parked';
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

test('the operator lists\' cursors round-trip to their keyset positions; the parked id pattern is what the CLI parses', () => {
  const at = '2026-12-03T09:00:00.456Z';
  const parked = encodeCursor(at, parkedId(11, '9223372036854775807'));
  assert.ok(parkedCursorSchema.safeParse(parked).success, parked);
  assert.deepEqual(decodeCursor(parked), { at, id: '11:9223372036854775807' });
  const conflict = encodeCursor(at, conflictId('019a0000-0000-7000-8000-000000000001', 3, '42'));
  assert.ok(conflictCursorSchema.safeParse(conflict).success, conflict);
  assert.deepEqual(decodeCursor(conflict), { at, id: '019a0000-0000-7000-8000-000000000001@3:42' });
  for (const edge of ['0:0', '999999999:9999999999999999999']) {
    assert.ok(parkedIdSchema.safeParse(edge).success, edge);
    assert.notEqual(parseParkedId(edge), null, edge);
  }
  for (const bad of ['3', '3:', ':4', '-1:4', '3:4:5', '1000000000:1']) {
    assert.equal(parkedIdSchema.safeParse(bad).success, false, bad);
    assert.equal(parseParkedId(bad), null, bad);
  }
  assert.equal(parkedCursorSchema.safeParse(conflict).success, false, 'one list\'s cursor is not the other\'s');
  assert.equal(conflictCursorSchema.safeParse(parked).success, false);
});

test('ids from an Idempotency-Key are stable per client, key and item', () => {
  assert.equal(transactionIdFromKey('shop', 'order-123', 0), transactionIdFromKey('shop', 'order-123', 0));
  assert.notEqual(transactionIdFromKey('shop', 'order-123', 0), transactionIdFromKey('shop', 'order-123', 1));
  assert.notEqual(transactionIdFromKey('shop', 'order-123', 0), transactionIdFromKey('shop', 'order-124', 0));
  assert.notEqual(transactionIdFromKey('shop', 'order-123', 0), transactionIdFromKey('other-shop', 'order-123', 0), 'keys are scoped to the client');
  assert.equal(batchWorkflowId('transactions', 2, '1500'), 'tx-transactions-2-1500');
});
