import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseEvent, transactionBodySchema } from '../../../src/domain/transaction';

const good = {
  id: '019a0000-0000-7000-8000-000000000001',
  account: 'acc-000001',
  type: 'transfer',
  amountMinor: '1250',
  currency: 'EUR',
  counterparty: 'acc-000002',
  occurredAt: '2026-11-25T08:00:00.000Z',
};
const bytes = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v));

test('a well-formed event parses, amounts normalised to strings', () => {
  const r = parseEvent(bytes({ ...good, amountMinor: 1250 }));
  assert.ok(r.ok);
  assert.equal(r.event.amountMinor, '1250');
  assert.equal(r.event.occurredAt, '2026-11-25T08:00:00.000Z');
});

test('occurredAt with an offset is normalised to UTC', () => {
  const r = parseEvent(bytes({ ...good, occurredAt: '2026-11-25T09:00:00+01:00' }));
  assert.ok(r.ok);
  assert.equal(r.event.occurredAt, '2026-11-25T08:00:00.000Z');
});

const cases: Array<[string, unknown, string]> = [
  ['invalid JSON', '{"id":', '(root)'],
  ['not an object', '[1,2]', '(root)'],
  ['negative amount', { ...good, amountMinor: '-5' }, 'amountMinor'],
  ['zero amount', { ...good, amountMinor: '0' }, 'amountMinor'],
  ['fractional amount', { ...good, amountMinor: 12.5 }, 'amountMinor'],
  ['unsafe integer amount', { ...good, amountMinor: 2 ** 60 }, 'amountMinor'],
  ['overflowing string amount', { ...good, amountMinor: '123456789012345678901' }, 'amountMinor'],
  ['unknown type', { ...good, type: 'refund' }, 'type'],
  ['missing account', { ...good, account: undefined }, 'account'],
  ['bad currency', { ...good, currency: 'eur' }, 'currency'],
  ['transfer without counterparty', { ...good, counterparty: undefined }, 'counterparty'],
  ['counterparty on a debit', { ...good, type: 'debit' }, 'counterparty'],
  ['bad date', { ...good, occurredAt: '2026-13-45T00:00:00Z' }, 'occurredAt'],
  ['no zone', { ...good, occurredAt: '2026-11-25T08:00:00' }, 'occurredAt'],
  ['unknown key', { ...good, extra: 1 }, '(root)'],
  ['sql in account', { ...good, account: "x'; DROP TABLE transactions; --" }, 'account'],
  ['upper-case uuid', { ...good, id: good.id.toUpperCase() }, 'id'],
];
for (const [name, value, field] of cases) {
  test(`malformed: ${name} → names ${field}`, () => {
    const r = parseEvent(bytes(value));
    assert.equal(r.ok, false);
    if (!r.ok) {
      assert.equal(r.field, field);
      assert.match(r.reason, /\S/);
    }
  });
}

test('invalid UTF-8 and empty messages are malformed, never thrown', () => {
  const r = parseEvent(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]));
  assert.equal(r.ok, false);
  assert.equal(parseEvent(null).ok, false);
  assert.equal(parseEvent(Buffer.alloc(0)).ok, false);
  assert.equal(parseEvent(Buffer.alloc(100_000, 0x20)).ok, false);
});

test('the HTTP body schema has no id', () => {
  const { id: _id, ...body } = good;
  assert.equal(transactionBodySchema.safeParse(body).success, true);
  assert.equal(transactionBodySchema.safeParse(good).success, false);
});
