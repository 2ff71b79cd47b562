import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fraudThresholdsOf, loadConfig } from '../../../src/config';
import { evaluateFlags } from '../../../src/domain/fraud/evaluate';
import { parseEvent } from '../../../src/domain/transaction';
import { runOffline } from '../../../src/fraud/offline';
import { CLASS_DAILY_RATES, populationFor, rhythmAt } from '../../../src/producer/population';
import { createTraffic, FRAUD_PATTERNS, type TrafficEvent, type TrafficOptions } from '../../../src/producer/traffic';

const NOON = Date.UTC(2026, 5, 3, 12);

/** A wall-clock run whose clock is a perfectly paced producer's: event k occurs k/rate after the start. */
function paced(options: Omit<TrafficOptions, 'clock' | 'now' | 'startMs'> & { ratePerSec: number }): TrafficOptions {
  let k = 0;
  return { ...options, clock: 'wall', startMs: NOON, now: () => NOON + (k++ * 1000) / options.ratePerSec };
}

function take(options: TrafficOptions, count: number): TrafficEvent[] {
  const next = createTraffic(options);
  return Array.from({ length: count }, () => next());
}

test('simulated clock: every pattern injected at about the chosen rate, and labels stay out of the events', () => {
  const out = take({ seed: 11, accounts: 5000, fraudRate: 0.015, clock: 'simulated' }, 40_000);
  const fraud = out.filter((o) => o.label !== null);
  const share = fraud.length / out.length;
  assert.ok(share > 0.01 && share < 0.025, `fraud share ${share}`);
  for (const pattern of FRAUD_PATTERNS) assert.ok(fraud.some((o) => o.label === pattern), `no ${pattern}`);
  for (const { event } of out.slice(0, 2000)) {
    const bytes = Buffer.from(JSON.stringify(event));
    assert.ok(parseEvent(bytes).ok, 'a valid event');
    assert.doesNotMatch(bytes.toString(), /card_testing|velocity|round_trip|fan_out|label/);
  }
  assert.ok(out.some((o) => Date.parse(o.event.occurredAt) < Date.UTC(2025, 11, 1)), 'dormant accounts have old history');
});

test('the sequence follows from the seed (ids aside), on either clock', () => {
  const strip = (o: TrafficEvent) => ({ ...o.event, id: '', label: o.label });
  const sim = (seed: number) => take({ seed, accounts: 5000, fraudRate: 0.015, clock: 'simulated' }, 5000).map(strip);
  assert.deepEqual(sim(5), sim(5));
  assert.notDeepEqual(sim(6).slice(0, 500), sim(5).slice(0, 500));
  const wall = () => take(paced({ seed: 5, fraudRate: 0.015, ratePerSec: 2000, count: 20_000 }), 20_000).map(strip);
  assert.deepEqual(wall(), wall());
});

test('default traffic: a bank large enough for the rate, nobody paying several times a minute, event time = the wall clock', () => {
  const population = populationFor(2000, NOON);
  assert.ok(population > 5_000_000 && population < 50_000_000, `population ${population}`);
  assert.ok(populationFor(2000, Date.UTC(2026, 5, 3, 3)) > 3 * population, 'at night the same rate takes a bigger bank');
  assert.ok(Math.max(...CLASS_DAILY_RATES) < 100, 'the busiest accounts pay well under a hundred times a day');
  const out = take(paced({ seed: 42, fraudRate: 0.015, ratePerSec: 2000, count: 20_000 }), 20_000);
  const perAccount = new Map<string, number>();
  for (const { event, label } of out) if (label === null && event.type !== 'credit') perAccount.set(event.account, (perAccount.get(event.account) ?? 0) + 1);
  assert.ok(Math.max(...perAccount.values()) <= 3, `an account made ${Math.max(...perAccount.values())} normal payments in ten seconds`);
  for (let i = 0; i < out.length; i += 997) {
    const atMs = Date.parse((out[i] as TrafficEvent).event.occurredAt);
    assert.ok(Math.abs(atMs - (NOON + i / 2)) <= 1, `event ${i} occurs at the clock's time`);
  }
  const share = out.filter((o) => o.label).length / out.length;
  assert.ok(share > 0.008 && share < 0.025, `fraud share ${share}`);
});

test('a bounded run cuts no incident short: every burst and every mule account is complete', () => {
  const out = take(paced({ seed: 7, fraudRate: 0.05, ratePerSec: 1000, count: 15_000 }), 15_000);
  const bursts = new Map<string, number>();
  for (const { event, label } of out) if (label === 'card_testing' || label === 'velocity') bursts.set(`${label}/${event.account}`, (bursts.get(`${label}/${event.account}`) ?? 0) + 1);
  assert.ok(bursts.size > 3, 'bursts injected');
  for (const [key, n] of bursts) assert.ok(n >= 12, `${key}: ${n} events`);
  const deposits = out.filter((o) => o.event.description === 'deposit').map((o) => o.event.account);
  const drained = new Set(out.filter((o) => o.label === 'dormant_new_big_out').map((o) => o.event.account));
  assert.ok(deposits.length > 0);
  for (const account of deposits) assert.ok(drained.has(account), `${account} funded but never drained`);
  assert.equal(out.filter((o) => o.label === 'round_trip').length % 3, 0, 'round trips have all three legs');
});

test('daily rhythm: quiet nights and busy days, salaries and coffee in the morning', () => {
  assert.ok(rhythmAt(Date.UTC(2026, 0, 5, 3)) < 0.2 && rhythmAt(Date.UTC(2026, 0, 5, 12)) > 1.5);
  // One simulated day at half an event a second: 43,200 events.
  const out = take({ seed: 3, accounts: 20_000, fraudRate: 0, ratePerSec: 0.5, clock: 'simulated' }, 43_000);
  const byHour = Array.from({ length: 24 }, () => ({ all: 0, salary: 0, coffee: 0 }));
  for (const { event } of out) {
    const atMs = Date.parse(event.occurredAt);
    if (atMs < Date.UTC(2026, 0, 5)) continue; // dormant accounts' history
    const h = byHour[new Date(atMs).getUTCHours()] as { all: number; salary: number; coffee: number };
    h.all += 1;
    if (event.description === 'salary') h.salary += 1;
    if (event.description === 'coffee') h.coffee += 1;
  }
  assert.ok((byHour[12] as { all: number }).all > 5 * (byHour[3] as { all: number }).all, 'noon is busier than 03:00');
  const share = (h: number, k: 'salary' | 'coffee') => (byHour[h] as Record<string, number>)[k] as number / (byHour[h] as { all: number }).all;
  assert.ok(share(8, 'salary') > 2 * share(15, 'salary'), 'salaries are paid in the morning');
  assert.ok(share(8, 'coffee') > 2 * share(22, 'coffee'), 'coffee in the morning');
});

test('repeated amount spikes on one account stop at a ceiling: every amount stays a valid one', () => {
  // Few accounts and much fraud: the same accounts get spike after spike within the run.
  const next = createTraffic({ seed: 4, accounts: 40, fraudRate: 0.3, clock: 'simulated' });
  let max = 0;
  for (let i = 0; i < 100_000; i++) {
    const { event } = next();
    max = Math.max(max, Number(event.amountMinor));
    assert.ok(Number.isSafeInteger(Number(event.amountMinor)), `amount ${event.amountMinor}`);
  }
  assert.ok(max <= 50_000_000, `largest amount ${max}`);
});

test('the detector on the default traffic: flags close to the injected fraud (precision and recall >= 0.9)', () => {
  const run = runOffline({ ...paced({ seed: 42, fraudRate: 0.015, ratePerSec: 2000, count: 20_000 }), count: 20_000 }, fraudThresholdsOf(loadConfig({}, {})), { batchSize: 400 });
  const { overall } = evaluateFlags(run.labels, run.flags, FRAUD_PATTERNS);
  assert.ok(run.labels.size > 150, `injected ${run.labels.size}`);
  assert.ok(overall.precision >= 0.9, `precision ${overall.precision}`);
  assert.ok(overall.recall >= 0.9, `recall ${overall.recall}`);
  assert.ok(run.flags.size < 0.03 * run.transactions, `flagged ${run.flags.size} of ${run.transactions}`);
});
