import assert from 'node:assert/strict';
import { test } from 'node:test';
import { detectBatch, roundTripSweep, type DetectEvent, type DetectionContext } from '../../../../src/domain/fraud/detect';
import { anomalyScore, findRoundTrip } from '../../../../src/domain/fraud/rules';
import { emptyStats, knowsCounterparty, parseStats, serializeStats, updateStats, type AccountStats } from '../../../../src/domain/fraud/stats';
import { THRESHOLDS } from './thresholds';

const T0 = Date.UTC(2026, 0, 5, 12);
let seq = 0;
const tx = (account: string, type: DetectEvent['type'], amountMinor: number, atS: number, counterparty?: string): DetectEvent => ({
  id: `tx-${++seq}`,
  account,
  type,
  amountMinor: String(amountMinor),
  occurredAt: new Date(T0 + atS * 1000).toISOString(),
  ...(counterparty ? { counterparty } : {}),
});
const ctx = (over: Partial<DetectionContext> = {}): DetectionContext => ({ thresholds: THRESHOLDS, model: null, nearestFraud: () => null, storedTransfers: [], ...over });

/** An account with a calm history: `count` debits of about `amount`, one every `gapS` seconds, ending at -1 h. */
function history(account: string, count: number, amount: number, gapS: number): DetectEvent[] {
  return Array.from({ length: count }, (_, i) => tx(account, 'debit', amount + (i % 5) * 50, -3600 - (count - i) * gapS));
}

function rulesFired(events: DetectEvent[], loaded = new Map<string, AccountStats>()) {
  const out = detectBatch(events, loaded, ctx());
  return new Map(out.flags.map((f) => [f.txId, f.detectors]));
}

test('EWMA statistics follow the amounts; credits do not move the outgoing statistics', () => {
  let s = emptyStats('a');
  s = updateStats(s, { type: 'debit', amountMinor: '1000', occurredAtMs: T0 }, THRESHOLDS);
  assert.equal(s.ewmaAmount, 1000);
  assert.equal(s.outCount, 1);
  s = updateStats(s, { type: 'debit', amountMinor: '2000', occurredAtMs: T0 + 10_000 }, THRESHOLDS);
  assert.equal(s.ewmaAmount, 1100);
  assert.ok(s.ewmaLogVar > 0);
  const afterCredit = updateStats(s, { type: 'credit', amountMinor: '900000', occurredAtMs: T0 + 20_000 }, THRESHOLDS);
  assert.equal(afterCredit.ewmaAmount, 1100);
  assert.equal(afterCredit.txCount, 3);
  assert.equal(afterCredit.lastSeenMs, T0 + 20_000);
});

test('decayed window counts fall off with time; counterparties are remembered', () => {
  let s = emptyStats('a');
  s = updateStats(s, { type: 'transfer', amountMinor: '500', counterparty: 'b', occurredAtMs: T0 }, THRESHOLDS);
  assert.equal(s.outShort, 1);
  assert.equal(s.newCounterpartyShort, 1);
  assert.ok(knowsCounterparty(s, 'b'));
  assert.ok(!knowsCounterparty(s, 'c'));
  const later = updateStats(s, { type: 'transfer', amountMinor: '500', counterparty: 'b', occurredAtMs: T0 + 60_000 }, THRESHOLDS);
  assert.ok(Math.abs(later.outShort - (1 + Math.exp(-1))) < 1e-9);
  assert.equal(later.counterpartyCount, 1, 'a known counterparty is not new');
});

test('card testing: a burst of tiny debits is flagged, including its earlier members in the batch', () => {
  const burst = [0, 5, 9, 14, 20].map((s) => tx('victim', 'debit', 99, s));
  const fired = rulesFired(burst);
  assert.equal(fired.size, 5);
  assert.ok(fired.get(burst[4]!.id)?.includes('rule:card_testing'));
  const calm = [0, 200, 400].map((s) => tx('calm', 'debit', 150, s));
  assert.equal(rulesFired(calm).size, 0, 'tiny debits minutes apart are normal');
});

test('velocity: many payments in a minute fire for a calm account, not for a busy one at its usual pace', () => {
  const burst = Array.from({ length: 8 }, (_, i) => tx('calm', 'debit', 2500, i * 3));
  assert.ok(rulesFired([...history('calm', 30, 2500, 3600), ...burst]).get(burst[7]!.id)?.includes('rule:velocity'));
  // A busy account (a payment every 4 s for hours) keeps its pace: no flag once its pace is known.
  const known = detectBatch(Array.from({ length: 2000 }, (_, i) => tx('busy', 'debit', 2500, -8000 + i * 4)), new Map(), ctx()).stats;
  assert.equal(rulesFired(Array.from({ length: 8 }, (_, i) => tx('busy', 'debit', 2500, 10 + i * 4)), known).size, 0);
});

test('amount spike: far above the account history fires; a large amount on a large-spending account does not', () => {
  const spike = tx('a', 'debit', 150_000, 0);
  assert.ok(rulesFired([...history('a', 20, 2000, 3600), spike]).get(spike.id)?.includes('rule:amount_spike'));
  const usual = tx('b', 'debit', 150_000, 0);
  assert.equal(rulesFired([...history('b', 20, 90_000, 3600), usual]).size, 0);
});

test('big transfer out of a dormant account and out of a brand-new account', () => {
  const old = tx('sleepy', 'credit', 500_000, -90 * 86_400);
  const out = tx('sleepy', 'transfer', 400_000, 0, 'x');
  assert.deepEqual(rulesFired([old, out]).get(out.id), ['rule:dormant_big_out']);
  const deposit = tx('fresh', 'credit', 500_000, 0);
  const drain = tx('fresh', 'transfer', 450_000, 60, 'y');
  assert.deepEqual(rulesFired([deposit, drain]).get(drain.id), ['rule:new_account_big_out']);
  const small = tx('fresh2', 'transfer', 5_000, 60, 'y');
  assert.equal(rulesFired([tx('fresh2', 'credit', 500_000, 0), small]).size, 0, 'a small first transfer is normal');
});

test('fan-out: many new counterparties in minutes', () => {
  const fan = Array.from({ length: 6 }, (_, i) => tx('mule', 'transfer', 10_000, i * 20, `new-${i}`));
  const fired = rulesFired(fan);
  assert.ok(fired.get(fan[5]!.id)?.includes('rule:fan_out'));
  const regular = Array.from({ length: 6 }, (_, i) => tx('payer', 'transfer', 10_000, i * 20, 'landlord'));
  assert.equal(rulesFired(regular).size, 0, 'the same payee again and again is not fan-out');
});

test('round trip A→B→C→A within the window is found whichever leg comes last', () => {
  const leg = (id: string, from: string, to: string, amount: number, atS: number) => ({ id, from, to, amountMinor: String(amount), occurredAtMs: T0 + atS * 1000 });
  const ab = leg('1', 'A', 'B', 200_000, 0);
  const bc = leg('2', 'B', 'C', 196_000, 120);
  const ca = leg('3', 'C', 'A', 192_000, 300);
  assert.deepEqual(findRoundTrip(ca, [ab, bc], THRESHOLDS)?.map((l) => l.id), ['1', '2']);
  assert.ok(findRoundTrip(ab, [bc, ca], THRESHOLDS), 'the first leg applied last still closes the cycle');
  assert.equal(findRoundTrip(leg('4', 'C', 'A', 50_000, 300), [ab, bc], THRESHOLDS), null, 'amounts must match');
  assert.equal(findRoundTrip(leg('5', 'C', 'A', 192_000, 3000), [ab, bc], THRESHOLDS), null, 'outside the window');

  const closing = tx('C', 'transfer', 192_000, 300, 'A');
  const out = detectBatch([closing], new Map(), ctx({ storedTransfers: [ab, bc] }));
  assert.deepEqual(out.flags.map((f) => [f.txId, f.late]).sort(), [['1', true], ['2', true], [closing.id, false]].sort());
});

test('anomaly score grows with how unusual the amount is, and ignores credits', () => {
  let s = emptyStats('a');
  for (let i = 0; i < 20; i++) s = updateStats(s, { type: 'debit', amountMinor: String(2000 + (i % 3) * 300), occurredAtMs: T0 + i * 3_600_000 }, THRESHOLDS);
  const at = T0 + 21 * 3_600_000;
  const score = (amount: number) => {
    const e = { type: 'debit' as const, amountMinor: String(amount), occurredAtMs: at };
    return anomalyScore(e, s, updateStats(s, e, THRESHOLDS), THRESHOLDS);
  };
  assert.equal(score(2200), 0);
  assert.ok(score(60_000) > 0.9);
  assert.ok(score(600_000) > score(60_000));
  const credit = { type: 'credit' as const, amountMinor: '900000', occurredAtMs: at };
  assert.equal(anomalyScore(credit, s, updateStats(s, credit, THRESHOLDS), THRESHOLDS), 0);
});

test('detection is deterministic: the same sequence yields the same flags and statistics', () => {
  const events = [...history('a', 10, 2000, 600), tx('a', 'debit', 300_000, 0), ...[0, 1, 2, 3].map((s) => tx('b', 'debit', 50, s))];
  const one = detectBatch(events, new Map(), ctx());
  const two = detectBatch(events, new Map(), ctx());
  assert.deepEqual(one, two);
});

test('stored statistics round-trip through their compact form; the burst ring keeps only reachable members', () => {
  let s = emptyStats('a');
  for (let i = 0; i < 12; i++) s = updateStats(s, { id: `t${i}`, type: 'transfer', amountMinor: String(1000 + i), counterparty: `c${i % 4}`, occurredAtMs: T0 + i * 1000 }, THRESHOLDS);
  assert.equal(s.recent.length, 8);
  const back = parseStats('a', serializeStats(s));
  assert.equal(back.outCount, 12);
  assert.deepEqual(back.recent, s.recent);
  assert.equal(back.counterpartyBits, s.counterpartyBits);
  assert.ok(Math.abs(back.ewmaAmount - s.ewmaAmount) / s.ewmaAmount < 1e-6);
  const later = updateStats(s, { id: 'late', type: 'debit', amountMinor: '500', occurredAtMs: T0 + 3_600_000 }, THRESHOLDS);
  assert.deepEqual(later.recent.map(([id]) => id), ['late'], 'members older than the longest burst window are dropped');
});

test('round-trip sweep: legs applied by concurrent batches are found once all are committed', () => {
  const leg = (id: string, from: string, to: string, amount: number, atS: number) => ({ id, from, to, amountMinor: String(amount), occurredAtMs: T0 + atS * 1000 });
  const ab = leg('s1', 'A', 'B', 200_000, 0);
  const bc = leg('s2', 'B', 'C', 196_000, 120);
  const ca = leg('s3', 'C', 'A', 192_000, 300);
  // B→C and C→A were applied at the same time: neither batch saw the other's leg. After both
  // commits, the sweep of either batch sees every leg.
  const flags = roundTripSweep([ca], [ab, bc, ca], THRESHOLDS);
  assert.deepEqual(flags.map((f) => [f.txId, f.late, f.detectors.join()]).sort(), [['s1', true, 'rule:round_trip'], ['s2', true, 'rule:round_trip'], ['s3', true, 'rule:round_trip']]);
  assert.deepEqual(roundTripSweep([bc], [ab, bc, ca], THRESHOLDS).map((f) => f.txId).sort(), ['s1', 's2', 's3']);
  assert.deepEqual(roundTripSweep([bc], [ab, bc], THRESHOLDS), [], 'no cycle while a leg is missing');
});
