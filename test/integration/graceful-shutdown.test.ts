import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { ChildProcess } from 'node:child_process';
import { startProducer } from '../../src/producer';
import { createPool } from '../../src/store/pool';
import { verify } from '../../src/verify';
import { createTestPipeline, type TestPipeline } from '../helpers/pipeline';
import { exited, freePort, spawnLedgerflow, waitForStatus } from '../helpers/processes';

/**
 * What the chart relies on, on real processes: on SIGTERM /readyz turns 503 first, in-flight
 * batches drain, the process exits 0 within the grace period, and nothing is lost or duplicated
 * while consumers and workers are replaced under load.
 */
const GRACE_MS = 8_000;
let env: TestPipeline;
const children: ChildProcess[] = [];
let stopProducer: (() => Promise<void>) | undefined;

before(async () => {
  env = await createTestPipeline('drain', { 'shutdown.graceMs': GRACE_MS });
});

after(async () => {
  await stopProducer?.();
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await env?.dispose();
});

async function startProcess(command: 'consume' | 'work') {
  const port = await freePort();
  const key = command === 'consume' ? 'consumer.httpPort' : 'worker.httpPort';
  const child = spawnLedgerflow(command, env.childEnv({ [key]: port, 'log.level': 'info' }));
  children.push(child);
  const readyz = `http://127.0.0.1:${port}/readyz`;
  await waitForStatus(readyz, 200, 90_000);
  return { child, readyz };
}

/** Resolves once more transactions are stored than when called (batches are being applied). */
async function storedGrows(): Promise<void> {
  const pool = createPool(env.config, 'app', 1);
  try {
    const count = async () => Number(((await pool.query('SELECT COUNT(*) AS n FROM transactions'))[0] as Array<{ n: number | string }>)[0]?.n);
    const before = await count();
    const deadline = Date.now() + 60_000;
    while ((await count()) === before) {
      assert.ok(Date.now() < deadline, 'no batch was applied within 60 s of the consumer restart');
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    await pool.end();
  }
}

/** Sends SIGTERM and watches /readyz until the process is gone. */
async function terminate(proc: { child: ChildProcess; readyz: string }) {
  const sentAt = Date.now();
  proc.child.kill('SIGTERM');
  let sawNotReady = false;
  const exit = exited(proc.child);
  let done = false;
  void exit.then(() => (done = true));
  while (!done) {
    const status = await fetch(proc.readyz).then((r) => r.status, () => 0);
    if (status === 503) sawNotReady = true;
    // A drain with little in flight lasts a few tens of ms: poll often enough to see it.
    await new Promise((r) => setTimeout(r, 2));
  }
  return { ...(await exit), sawNotReady, tookMs: Date.now() - sentAt };
}

test('SIGTERM drains consumers and workers under load: readiness first, exit 0 in grace, nothing lost', { timeout: 300_000 }, async () => {
  let worker = await startProcess('work');
  let consumer = await startProcess('consume');
  const producer = await startProducer(env.config, { ratePerSec: 2_500, count: 25_000, accounts: 300, seed: 99, malformedRatio: 0.005 }, env.log);
  stopProducer = producer.stop;

  await new Promise((r) => setTimeout(r, 3_000));
  const c = await terminate(consumer);
  assert.equal(c.code, 0, consumer.child.output.join(''));
  assert.ok(c.sawNotReady, 'consumer /readyz answered 503 while draining');
  assert.ok(c.tookMs < GRACE_MS + 5_000, `consumer exited in ${c.tookMs} ms`);
  consumer = await startProcess('consume');

  // The worker is stopped under load: after the new consumer has joined the group and batches
  // flow again (an idle worker exits before a 20 ms poll of /readyz can see its 503).
  await storedGrows();
  const w = await terminate(worker);
  assert.equal(w.code, 0, worker.child.output.join(''));
  assert.ok(w.sawNotReady, 'worker /readyz answered 503 while draining');
  assert.ok(w.tookMs < GRACE_MS + 5_000, `worker exited in ${w.tookMs} ms`);
  worker = await startProcess('work');

  await producer.done;
  const report = await verify(env.config, { waitMs: 180_000 }, env.log);
  assert.equal(report.missing, 0);
  assert.equal(report.duplicated, 0);
  assert.equal(report.balanceMismatches, 0);
  assert.equal(report.ok, true, JSON.stringify(report));

  for (const p of [consumer, worker]) assert.equal((await terminate(p)).code, 0);
});
