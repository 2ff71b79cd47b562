import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseEvent } from '../../../src/domain/transaction';
import { createLabelledWorkload, FRAUD_PATTERNS } from '../../../src/producer/labelled';

const COUNT = 40_000;

function run(seed: number) {
  const next = createLabelledWorkload({ seed, accounts: 5000, fraudRate: 0.015 });
  return Array.from({ length: COUNT }, () => next());
}

test('every pattern is injected at about the chosen rate, and labels stay out of the events', () => {
  const out = run(11);
  const fraud = out.filter((o) => o.label !== null);
  const share = fraud.length / COUNT;
  assert.ok(share > 0.01 && share < 0.025, `fraud share ${share}`);
  for (const pattern of FRAUD_PATTERNS) assert.ok(fraud.some((o) => o.label === pattern), `no ${pattern}`);
  for (const { event } of out.slice(0, 2000)) {
    const bytes = Buffer.from(JSON.stringify(event));
    assert.ok(parseEvent(bytes).ok, 'a valid event');
    assert.doesNotMatch(bytes.toString(), /card_testing|velocity|round_trip|fan_out|label/);
  }
});

test('the workload is reproducible from the seed (ids aside)', () => {
  const strip = (o: ReturnType<typeof run>[number]) => ({ ...o.event, id: '', label: o.label });
  assert.deepEqual(run(5).slice(0, 5000).map(strip), run(5).slice(0, 5000).map(strip));
  assert.notDeepEqual(run(6).slice(0, 500).map(strip), run(5).slice(0, 500).map(strip));
});

test('normal traffic has variety: salaries, rent, payees, spending, and a few hot accounts', () => {
  const normal = run(3).filter((o) => o.label === null).map((o) => o.event);
  const kinds = new Set(normal.map((e) => e.description));
  for (const k of ['salary', 'rent', 'card payment', 'coffee', 'top-up', 'transfer']) assert.ok(kinds.has(k), `no ${k}`);
  const perAccount = new Map<string, number>();
  for (const e of normal) perAccount.set(e.account, (perAccount.get(e.account) ?? 0) + 1);
  const counts = [...perAccount.values()].sort((a, b) => b - a);
  assert.ok((counts[0] as number) > 20 * (counts[Math.floor(counts.length / 2)] as number), 'skewed popularity');
  assert.ok(normal.some((e) => Date.parse(e.occurredAt) < Date.UTC(2025, 11, 1)), 'dormant accounts have old history');
});

test('repeated amount spikes on one account stop at a ceiling: every amount stays a valid one', () => {
  // Few accounts and much fraud: the same accounts get spike after spike within the run.
  const next = createLabelledWorkload({ seed: 4, accounts: 40, fraudRate: 0.3 });
  let max = 0;
  for (let i = 0; i < 100_000; i++) {
    const { event } = next();
    max = Math.max(max, Number(event.amountMinor));
    assert.ok(Number.isSafeInteger(Number(event.amountMinor)), `amount ${event.amountMinor}`);
  }
  assert.ok(max <= 50_000_000, `largest amount ${max}`);
});

test('a malformed message made from a labelled event never parses (the chaos run sends them among the labelled traffic)', async () => {
  const { malformedOf } = await import('../../../src/producer/generator');
  const { createRandom } = await import('../../../src/domain/random');
  const random = createRandom(3);
  const kinds = new Set<string>();
  for (const { event } of run(7).slice(0, 400)) {
    const m = malformedOf(event, random);
    kinds.add(m.malformedKind as string);
    assert.equal(parseEvent(m.value).ok, false, m.value.toString());
    assert.equal(m.event, undefined);
  }
  assert.ok(kinds.size >= 6, `kinds drawn: ${[...kinds].join(', ')}`);
});
