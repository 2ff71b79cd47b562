import assert from 'node:assert/strict';
import { test } from 'node:test';
import { groupMembershipError } from '../../../src/consumer';

test('a membership error is found inside kafkajs wrappers, other errors are not', () => {
  const original = Object.assign(new Error('The coordinator is not aware of this member'), { type: 'UNKNOWN_MEMBER_ID' });
  const wrapped = Object.assign(new Error(original.message), { name: 'KafkaJSNonRetriableError', originalError: original });
  assert.equal(groupMembershipError(wrapped), original);
  assert.equal(groupMembershipError(Object.assign(new Error('x'), { type: 'REBALANCE_IN_PROGRESS' }))?.message, 'x');
  assert.equal(groupMembershipError(Object.assign(new Error('y'), { type: 'NOT_LEADER_FOR_PARTITION' })), null);
  assert.equal(groupMembershipError(new Error('plain')), null);
  assert.equal(groupMembershipError(undefined), null);
});
