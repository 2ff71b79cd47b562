import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CHUNK_MAX, pace, TICK_MS } from '../../../src/producer/pace';

/** Runs the producer loop against a clock where every send takes `sendMs`; returns the send sizes. */
function simulate(ratePerSec: number, total: number, sendMs: number, untilMs: number): number[] {
  const sends: number[] = [];
  let nowMs = 1_000_000;
  const startedMs = nowMs;
  let sent = 0;
  let lastSendAtMs = 0;
  while (sent < total && nowMs - startedMs < untilMs) {
    const { size, waitMs } = pace({ nowMs, startedMs, ratePerSec, sent, total, lastSendAtMs });
    if (size === 0) {
      assert.ok(waitMs > 0 && waitMs <= TICK_MS, `a wait is within one tick: ${waitMs}`);
      nowMs += waitMs;
      continue;
    }
    assert.ok(size <= CHUNK_MAX);
    lastSendAtMs = nowMs;
    sends.push(size);
    sent += size;
    nowMs += sendMs;
  }
  return sends;
}

test('a rate-limited producer sends once per tick, not again as soon as each send is acknowledged', () => {
  const sends = simulate(8_000, Number.MAX_SAFE_INTEGER, 1, 10_000);
  const sent = sends.reduce((a, b) => a + b, 0);
  assert.ok(sends.length <= 10_000 / TICK_MS + 1, `${sends.length} sends in 10 s`);
  assert.ok(sent >= 8_000 * 9.7 && sent <= 8_000 * 10, `kept the rate: ${sent} in 10 s`);
  assert.ok(Math.min(...sends.slice(1)) >= (8_000 * TICK_MS) / 1000 - 10, `each send carries a tick's events: ${Math.min(...sends.slice(1))}`);
});

test('a producer that is a whole chunk behind sends without waiting for the tick', () => {
  // 30,000/s with 50 ms sends: 1,500 due per send, 6,000 per tick: it must send full chunks back to back.
  const sends = simulate(30_000, Number.MAX_SAFE_INTEGER, 50, 5_000);
  const sent = sends.reduce((a, b) => a + b, 0);
  assert.ok(sent >= 30_000 * 4.5, `kept up: ${sent} in 5 s`);
  assert.ok(sends.filter((s) => s === CHUNK_MAX).length > sends.length / 2, 'mostly full chunks');
});

test('an unlimited producer sends full chunks and the last remainder, never waits', () => {
  assert.deepEqual(simulate(0, 5_500, 1, 60_000), [CHUNK_MAX, CHUNK_MAX, 1_500]);
});

test('the last events of a counted run go out as soon as they are due', () => {
  // 1,000/s for 250 events: all due after 250 ms; the remainder is not held for the next tick.
  const sends = simulate(1_000, 250, 1, 10_000);
  assert.equal(sends.reduce((a, b) => a + b, 0), 250);
});
