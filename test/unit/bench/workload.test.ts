import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BENCH_FRAUD_RATE, isWorkload, produceArgs, workloadEvents } from '../../../src/bench/workload';
import { createTraffic } from '../../../src/producer/traffic';

test('the labelled bench workload is the traffic model on its simulated clock, labels dropped', () => {
  const events = workloadEvents('labelled', { accounts: 500, seed: 9 });
  const traffic = createTraffic({ seed: 9, accounts: 500, fraudRate: BENCH_FRAUD_RATE, clock: 'simulated' });
  for (let i = 0; i < 2_000; i++) {
    const { event } = traffic();
    const e = events();
    assert.deepEqual({ ...e, id: '' }, { ...event, id: '' });
    assert.equal('label' in e, false);
  }
});

test('the random workload takes the caller clock; the labelled one refuses it (it simulates time)', () => {
  const at = () => '2026-01-01T00:00:00.000Z';
  assert.equal(workloadEvents('random', { accounts: 10, seed: 1, occurredAt: at })().occurredAt, '2026-01-01T00:00:00.000Z');
  assert.throws(() => workloadEvents('labelled', { accounts: 10, seed: 1, occurredAt: at }), /simulates its own event time/);
});

test('workload names and the produce arguments that select them', () => {
  assert.equal(isWorkload('labelled'), true);
  assert.equal(isWorkload('random'), true);
  assert.equal(isWorkload('realistic'), false);
  assert.deepEqual(produceArgs('labelled'), ['--clock', 'simulated', '--fraud-rate', String(BENCH_FRAUD_RATE)]);
  assert.deepEqual(produceArgs('random'), ['--fraud-rate', String(BENCH_FRAUD_RATE)]);
});
