import assert from 'node:assert/strict';
import { test } from 'node:test';
import { accountDayKey, balanceKey, dayOf, dayRollupsOf, decideBatch, foldIntoRow, minuteOf, netExternalFlow, ownBalanceKeysOf, splitCredits } from '../../../src/domain/ledger';
import { checkStatelessRules } from '../../../src/domain/rules';
import type { SourcedEvent } from '../../../src/domain/transaction';

let offset = 0;
const ev = (type: SourcedEvent['type'], account: string, amountMinor: string, counterparty?: string): SourcedEvent => ({
  id: `019a0000-0000-7000-8000-${String(++offset).padStart(12, '0')}`,
  account,
  type,
  amountMinor,
  currency: 'EUR',
  occurredAt: '2026-11-25T08:01:30.000Z',
  partition: 0,
  offset: String(offset),
  ...(counterparty ? { counterparty } : {}),
});

test('credits, debits and transfers move balances; transfers net to zero', () => {
  const events = [ev('credit', 'a', '1000'), ev('debit', 'a', '300'), ev('transfer', 'a', '200', 'b')];
  const out = decideBatch(events, new Map(), new Map(), 0n);
  assert.deepEqual(out.decisions.map((d) => d.status), ['applied', 'applied', 'applied']);
  assert.equal(out.balanceDeltas.get(balanceKey('a', 'EUR')), 500n);
  assert.equal(out.balanceDeltas.get(balanceKey('b', 'EUR')), 200n);
  let sum = 0n;
  for (const d of out.balanceDeltas.values()) sum += d;
  assert.equal(sum, netExternalFlow(out.decisions));
  assert.equal(sum, 700n);
});

test('a debit beyond the overdraft limit is rejected and moves nothing', () => {
  const balances = new Map([[balanceKey('a', 'EUR'), 100n]]);
  const out = decideBatch([ev('debit', 'a', '151'), ev('debit', 'a', '150')], new Map(), balances, 50n);
  assert.deepEqual(out.decisions.map((d) => [d.status, d.reason]), [['rejected', 'insufficient_funds'], ['applied', null]]);
  assert.equal(out.balanceDeltas.get(balanceKey('a', 'EUR')), -150n);
});

test('earlier events of the batch fund later ones (offset order)', () => {
  const out = decideBatch([ev('credit', 'a', '500'), ev('transfer', 'a', '500', 'b')], new Map(), new Map(), 0n);
  assert.deepEqual(out.decisions.map((d) => d.status), ['applied', 'applied']);
});

test('stateless rejections are stored as rejected with their reason', () => {
  const e = ev('credit', 'a', '10');
  const out = decideBatch([e], new Map([[e.id, 'over_limit' as const]]), new Map(), 0n);
  assert.equal(out.decisions[0]?.reason, 'over_limit');
  assert.equal(out.balanceDeltas.size, 0);
  const rollup = [...out.rollups.values()][0];
  assert.deepEqual([rollup?.status, rollup?.reason, rollup?.count, rollup?.minute], ['rejected', 'over_limit', 1, '2026-11-25 08:01:00']);
});

test('a batch locks only its own balance keys, sorted, never a counterparty', () => {
  const keys = ownBalanceKeysOf([ev('transfer', 'z', '1', 'b'), ev('debit', 'm', '1'), ev('credit', 'z', '5')]);
  assert.deepEqual(keys, [balanceKey('m', 'EUR'), balanceKey('z', 'EUR')]);
});

test('transfers to keys the batch does not hold become one pending credit each; the rest stays in place', () => {
  const events = [ev('credit', 'a', '1000'), ev('transfer', 'a', '200', 'b'), ev('transfer', 'a', '50', 'b'), ev('transfer', 'a', '70', 'c'), ev('transfer', 'c', '999999', 'a')];
  const out = decideBatch(events, new Map(), new Map(), 0n);
  const locked = new Set(ownBalanceKeysOf(events));
  const { deltas, credits } = splitCredits(out, locked);
  // a: +1000 -200 -50 -70; c: +70 (held: c is an own key), its big transfer is rejected
  assert.deepEqual([...deltas.entries()].sort(), [[balanceKey('a', 'EUR'), 680n], [balanceKey('c', 'EUR'), 70n]]);
  assert.deepEqual(credits.map((c) => [c.txId, c.account, c.amountMinor]), [[events[1]?.id, 'b', 200n], [events[2]?.id, 'b', 50n]]);
  let sum = credits.reduce((acc, c) => acc + c.amountMinor, 0n);
  for (const d of deltas.values()) sum += d;
  assert.equal(sum, netExternalFlow(out.decisions));
});

test('a rejected transfer leaves no pending credit', () => {
  const events = [ev('transfer', 'a', '10', 'b')];
  const { deltas, credits } = splitCredits(decideBatch(events, new Map(), new Map(), 0n), new Set(ownBalanceKeysOf(events)));
  assert.equal(credits.length, 0);
  assert.equal(deltas.size, 0);
});

test('stateless rules: currency, limit, self transfer', () => {
  const rules = { maxAmountMinor: '1000', currencies: ['EUR'] };
  assert.equal(checkStatelessRules(ev('credit', 'a', '1000'), rules), null);
  assert.equal(checkStatelessRules(ev('credit', 'a', '1001'), rules), 'over_limit');
  assert.equal(checkStatelessRules({ ...ev('credit', 'a', '1'), currency: 'USD' }, rules), 'unsupported_currency');
  assert.equal(checkStatelessRules(ev('transfer', 'a', '1', 'a'), rules), 'self_transfer');
});

test('minuteOf truncates to the minute', () => {
  assert.equal(minuteOf('2026-11-25T23:59:59.999Z'), '2026-11-25 23:59:00');
});

test('dayOf keeps the UTC date of an instant or of a minute literal', () => {
  assert.equal(dayOf('2026-11-25T23:59:59.999Z'), '2026-11-25');
  assert.equal(dayOf('2026-11-26 00:00:00'), '2026-11-26');
});

const at = (e: SourcedEvent, occurredAt: string): SourcedEvent => ({ ...e, occurredAt });

test('day rollups are the minute rollups summed per day, in primary-key order', () => {
  const events = [
    at(ev('credit', 'a', '1000'), '2026-11-25T23:58:10.000Z'),
    at(ev('credit', 'b', '500'), '2026-11-25T23:59:50.000Z'),
    at(ev('debit', 'a', '300'), '2026-11-26T00:00:01.000Z'),
    at(ev('debit', 'c', '999'), '2026-11-26T00:01:00.000Z'),
  ];
  const out = decideBatch(events, new Map(), new Map(), 0n);
  assert.equal(out.rollups.size, 4, 'four minutes');
  const days = dayRollupsOf(out.rollups);
  assert.deepEqual(
    days.map((d) => [d.day, d.type, d.status, d.reason, d.count, d.sumMinor]),
    [
      ['2026-11-25', 'credit', 'applied', '', 2, 1500n],
      ['2026-11-26', 'debit', 'applied', '', 1, 300n],
      ['2026-11-26', 'debit', 'rejected', 'insufficient_funds', 1, 999n],
    ],
  );
  const total = (xs: Iterable<{ count: number; sumMinor: bigint }>) => [...xs].reduce((acc, r) => [acc[0] + r.count, acc[1] + r.sumMinor] as [number, bigint], [0, 0n] as [number, bigint]);
  assert.deepEqual(total(days), total(out.rollups.values()));
});

test('account-day rollups count by initiating account: all rows, rejected rows, applied amount', () => {
  const events = [
    ev('credit', 'a', '1000'),
    ev('transfer', 'a', '400', 'b'),
    ev('debit', 'a', '700'), // 600 left: rejected
    ev('debit', 'b', '100'),
    at(ev('credit', 'a', '5'), '2026-11-26T00:00:00.000Z'),
  ];
  const out = decideBatch(events, new Map(), new Map(), 0n);
  const row = (day: string, account: string) => {
    const r = out.accountDays.get(accountDayKey(day, 'EUR', account));
    return r && [r.count, r.rejectedCount, r.appliedMinor];
  };
  assert.deepEqual(row('2026-11-25', 'a'), [3, 1, 1400n]);
  assert.deepEqual(row('2026-11-25', 'b'), [1, 0, 100n], 'the received transfer counts for its payer only');
  assert.deepEqual(row('2026-11-26', 'a'), [1, 0, 5n]);
  assert.equal(out.accountDays.size, 3);
  const keys = [...out.accountDays.keys()];
  assert.deepEqual([...keys].sort(), [accountDayKey('2026-11-25', 'EUR', 'a'), accountDayKey('2026-11-25', 'EUR', 'b'), accountDayKey('2026-11-26', 'EUR', 'a')]);
});

test('no events, no rollup rows of any grain', () => {
  const out = decideBatch([], new Map(), new Map(), 0n);
  assert.equal(out.accountDays.size, 0);
  assert.deepEqual(dayRollupsOf(out.rollups), []);
});

test('a credit or transfer that would take the receiving balance past the BIGINT column is rejected (balance_overflow), before any write', () => {
  const max = 9_223_372_036_854_775_807n;
  // The poison batch of decision 020: twelve credits of 999,999,999,999,999,999 to one account (a limit the config accepts).
  const big = '999999999999999999';
  const credits = Array.from({ length: 12 }, () => ev('credit', 'rich', big));
  const out = decideBatch(credits, new Map(), new Map(), 0n);
  assert.deepEqual(out.decisions.map((d) => d.reason), [...Array(9).fill(null), 'balance_overflow', 'balance_overflow', 'balance_overflow']);
  assert.equal(out.balanceDeltas.get(balanceKey('rich', 'EUR')), 9n * BigInt(big));
  const rejected = [...out.rollups.values()].find((r) => r.status === 'rejected');
  assert.deepEqual([rejected?.reason, rejected?.count, rejected?.sumMinor], ['balance_overflow', 3, 3n * BigInt(big)]);
  // Exactly at the limit is allowed; one more is not. A transfer checks the receiver (held or read).
  const edge = decideBatch([ev('credit', 'x', '7'), ev('credit', 'x', '1')], new Map(), new Map([[balanceKey('x', 'EUR'), max - 7n]]), 0n);
  assert.deepEqual(edge.decisions.map((d) => d.reason), [null, 'balance_overflow']);
  const full = new Map([[balanceKey('a', 'EUR'), 100n], [balanceKey('b', 'EUR'), max - 10n]]);
  const transfers = decideBatch([ev('transfer', 'a', '11', 'b'), ev('transfer', 'a', '10', 'b')], new Map(), full, 0n);
  assert.deepEqual(transfers.decisions.map((d) => [d.status, d.reason]), [['rejected', 'balance_overflow'], ['applied', null]]);
  assert.equal(transfers.balanceDeltas.get(balanceKey('a', 'EUR')), -10n, 'a rejected transfer moves nothing');
});

test('a fold absorbs every pending credit that keeps the row in range, in tx id order; the others are left to the caller', () => {
  const max = 9_223_372_036_854_775_807n;
  const c = (txId: string, amountMinor: bigint) => ({ txId, amountMinor });
  assert.deepEqual(foldIntoRow(70n, [c('b', 5n), c('a', 7n)]), { value: 82n, folded: [c('b', 5n), c('a', 7n)] });
  assert.deepEqual(foldIntoRow(max - 10n, [c('c', 8n), c('a', 6n), c('b', 3n)]), { value: max - 1n, folded: [c('a', 6n), c('b', 3n)] });
  assert.deepEqual(foldIntoRow(max - 50n, [c('z', 100n)]), { value: max - 50n, folded: [] });
});
