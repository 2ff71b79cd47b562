import assert from 'node:assert/strict';
import { test } from 'node:test';
import { canonicalBody, differences } from '../../../src/api/idempotency';
import { transactionBodySchema, type TransactionBody } from '../../../src/domain/transaction';

const parse = (v: Record<string, unknown>) => transactionBodySchema.parse(v) as TransactionBody;
const tx = (over: Record<string, unknown> = {}) => ({ account: 'a-1', type: 'credit', amountMinor: '100', currency: 'EUR', occurredAt: '2026-11-25T08:00:00Z', ...over });

test('the fingerprint is of the normalised body: spelling differences do not count, content does', () => {
  const base = canonicalBody([parse(tx())]);
  const sameKeysReordered = canonicalBody([parse({ occurredAt: '2026-11-25T09:00:00+01:00', currency: 'EUR', amountMinor: 100, type: 'credit', account: 'a-1' })]);
  assert.equal(sameKeysReordered.fingerprint, base.fingerprint);
  assert.match(base.fingerprint, /^[0-9a-f]{64}$/);
  for (const changed of [tx({ amountMinor: '101' }), tx({ description: 'x' }), tx({ occurredAt: '2026-11-25T08:00:00.001Z' }), tx({ type: 'debit' })]) {
    assert.notEqual(canonicalBody([parse(changed)]).fingerprint, base.fingerprint, JSON.stringify(changed));
  }
  assert.notEqual(canonicalBody([parse(tx()), parse(tx())]).fingerprint, base.fingerprint, 'two items are not one');
});

test('differences name the item and field, with both values', () => {
  const first = canonicalBody([parse(tx()), parse(tx({ type: 'transfer', counterparty: 'b-2' }))]).text;
  const now = canonicalBody([parse(tx({ amountMinor: 999 })), parse(tx({ type: 'transfer', counterparty: 'c-3', description: 'x' }))]).text;
  assert.deepEqual(differences(first, now), [
    { field: '[0].amountMinor', first: '100', now: '999' },
    { field: '[1].counterparty', first: 'b-2', now: 'c-3' },
    { field: '[1].description', first: null, now: 'x' },
  ]);
  assert.deepEqual(differences(first, canonicalBody([parse(tx())]).text), [{ field: 'items', first: '2', now: '1' }]);
  const many = canonicalBody(Array.from({ length: 50 }, (_, i) => parse(tx({ amountMinor: String(i + 1) })))).text;
  const other = canonicalBody(Array.from({ length: 50 }, (_, i) => parse(tx({ amountMinor: String(i + 1000) })))).text;
  assert.equal(differences(many, other).length, 20, 'at most 20 listed');
});
