import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveIds, splitRepeats } from '../../../src/activities/identity';
import { comparePositions, contentOf, differingFields } from '../../../src/domain/identity';
import { balanceKey, reversalOf } from '../../../src/domain/ledger';
import type { SourcedEvent } from '../../../src/domain/transaction';
import type { StoredVariant } from '../../../src/store/identity';

const ID = '019a0000-0000-7000-8000-000000000001';
const ev = (partition: number, offset: string, amountMinor: string, extra: Partial<SourcedEvent> = {}): SourcedEvent => ({
  id: ID, account: 'a', type: 'credit', amountMinor, currency: 'EUR', occurredAt: '2026-11-25T08:01:30.000Z', partition, offset, ...extra,
});
const stored = (e: SourcedEvent): StoredVariant => ({
  id: e.id, account: e.account, counterparty: e.counterparty ?? null, type: e.type, amountMinor: e.amountMinor, currency: e.currency,
  status: 'applied', reason: null, description: e.description ?? null, occurredAt: e.occurredAt, partition: e.partition, offset: e.offset, batchId: 'b',
});

test('positions: the lowest partition first, then the lowest offset (numerically)', () => {
  assert.ok(comparePositions({ partition: 0, offset: '900' }, { partition: 1, offset: '1' }) < 0);
  assert.ok(comparePositions({ partition: 2, offset: '9' }, { partition: 2, offset: '10' }) < 0);
  assert.equal(comparePositions({ partition: 2, offset: '10' }, { partition: 2, offset: '10' }), 0);
});

test('the same content is a duplicate; any other field is a conflict naming it', () => {
  assert.deepEqual(differingFields(contentOf(ev(0, '1', '5')), contentOf(ev(3, '9', '5'))), []);
  assert.deepEqual(differingFields(contentOf(ev(0, '1', '5')), contentOf(ev(0, '2', '6', { description: 'x' }))), ['amountMinor', 'description']);
});

test('within a batch the first copy decides; later copies are duplicates of it or conflicts with it', () => {
  const { unique, repeats } = splitRepeats([ev(0, '1', '5'), ev(0, '2', '5'), ev(0, '3', '7')]);
  const r = resolveIds(unique, repeats, new Map());
  assert.deepEqual([r.fresh.length, r.duplicates, r.conflicts.length, r.superseded.length], [1, 1, 1, 0]);
  assert.deepEqual([r.conflicts[0]?.outcome, r.conflicts[0]?.variant.offset, r.conflicts[0]?.stored.offset], ['arrived_later', '3', '1']);
});

test('against a stored row: a later variant loses, an earlier one supersedes it, an earlier copy moves its source', () => {
  const s = stored(ev(1, '50', '5'));
  const later = resolveIds([ev(2, '1', '9')], [], new Map([[ID, s]]));
  assert.deepEqual([later.fresh.length, later.conflicts[0]?.outcome, later.conflicts[0]?.stored.partition], [0, 'arrived_later', 1]);
  const earlier = resolveIds([ev(0, '99', '9')], [], new Map([[ID, s]]));
  assert.deepEqual([earlier.fresh.length, earlier.superseded[0]?.offset, earlier.conflicts[0]?.outcome, earlier.conflicts[0]?.variant.partition], [1, '50', 'superseded', 1]);
  const copy = resolveIds([ev(1, '20', '5')], [], new Map([[ID, s]]));
  assert.deepEqual([copy.fresh.length, copy.duplicates, copy.moves[0]?.to.offset], [0, 1, '20']);
  // A repeat after a superseding copy is compared with the new winner.
  const both = resolveIds([ev(0, '99', '9')], [ev(0, '100', '9'), ev(0, '101', '5')], new Map([[ID, s]]));
  assert.deepEqual([both.duplicates, both.conflicts.map((c) => c.outcome)], [1, ['superseded', 'arrived_later']]);
});

test('a superseded transfer is reversed on both accounts, with its rollups and external flow; a rejected or review-reversed one moves no balance', () => {
  const transfer = { account: 'a', counterparty: 'b', type: 'transfer' as const, amountMinor: '300', currency: 'EUR', status: 'applied' as const, reason: null, occurredAt: '2026-11-25T08:01:30.000Z' };
  const r = reversalOf(transfer, false);
  assert.deepEqual([...r.balanceDeltas], [[balanceKey('a', 'EUR'), 300n], [balanceKey('b', 'EUR'), -300n]]);
  assert.deepEqual([r.rollup.count, r.rollup.sumMinor, r.rollup.minute, r.accountDay.appliedMinor, r.external], [-1, -300n, '2026-11-25 08:01:00', -300n, 0n]);
  assert.equal(reversalOf({ ...transfer, type: 'credit', counterparty: null }, false).external, -300n);
  assert.equal(reversalOf(transfer, true).balanceDeltas.size, 0);
  const rejected = reversalOf({ ...transfer, status: 'rejected', reason: 'insufficient_funds' }, false);
  assert.deepEqual([rejected.balanceDeltas.size, rejected.rollup.reason, rejected.accountDay.rejectedCount], [0, 'insufficient_funds', -1]);
});
