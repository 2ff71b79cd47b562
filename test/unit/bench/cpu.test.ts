import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cpuBetween, cpuSecondsOf, sampleCpu } from '../../../src/bench/cpu';

test('CPU use between two samples: cores busy and ms per 1,000 events, per process and in total', () => {
  const from = { atMs: 0, seconds: { mariadb: 10, worker: 5, gone: 1 } };
  const to = { atMs: 10_000, seconds: { mariadb: 15, worker: 7, late: 3 } };
  const use = cpuBetween(from, to, 20_000);
  assert.deepEqual(use.cores, { mariadb: 0.5, worker: 0.2 });
  assert.equal(use.totalCores, 0.7);
  assert.deepEqual(use.msPer1kEvents, { mariadb: 250, worker: 100 });
  assert.equal(use.windowS, 10);
});

test('this process has a CPU time, a pid that does not exist has none', () => {
  const own = cpuSecondsOf(process.pid);
  assert.ok(own !== null && own >= 0);
  assert.equal(cpuSecondsOf(2 ** 22 + 12345), null);
  const sample = sampleCpu({ self: process.pid, missing: 2 ** 22 + 12345 });
  assert.deepEqual(Object.keys(sample.seconds), ['self']);
});
