/**
 * No batch stalls its partition (docs/decisions/020-poison-isolation.md), on real Kafka, Temporal
 * and MariaDB: a balance that would overflow is a business rejection; an event the store refuses
 * for any other lasting reason (a real CHECK constraint and a real trigger, created in this run's
 * scratch database) is isolated and parked with its bytes, the rest of its batch and partition is
 * applied, and `ledgerflow parked replay` applies it exactly once after the cause is gone; a store
 * that refuses everything is a systemic fault: nothing parked, retried until it takes events again.
 * Attempts are counted from Temporal's histories and the worker's metrics, never from a clock.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { newTransactionId } from '../../src/domain/ids';
import { partitionOfKey } from '../../src/kafka/client';
import { listParked } from '../../src/store/parked';
import { createPool, type Pool } from '../../src/store/pool';
import { accountBalances } from '../../src/store/queries';
import { verify } from '../../src/verify';
import { batchRuns, freePort, produceKeyed, scrapeMetric } from '../helpers/batches';
import { startTestPipeline, type RunningPipeline } from '../helpers/pipeline';

const run = promisify(execFile);
const BIG = '999999999999999999';
let p: RunningPipeline;
let admin: Pool;
let workerPort: number;
let consumerPort: number;

before(async () => {
  workerPort = await freePort();
  consumerPort = await freePort();
  p = await startTestPipeline('poison', {
    'rules.maxAmountMinor': BIG,
    'worker.httpPort': workerPort,
    'consumer.httpPort': consumerPort,
    'consumer.lingerMs': 50,
  });
  admin = createPool(p.env.config, 'migrate', 1);
});

after(async () => {
  await admin?.end();
  await p?.stop();
});

const at = () => new Date().toISOString();
const event = (account: string, type: 'credit' | 'debit' | 'transfer', amountMinor: string, extra: Record<string, string> = {}) => ({
  key: account,
  value: JSON.stringify({ id: newTransactionId(), account, type, amountMinor, currency: 'EUR', occurredAt: at(), ...extra }),
});

/** Accounts whose key lands on the same partition as `account` (the partition's later events). */
function neighbours(account: string, count: number): string[] {
  const partitions = p.env.config.kafka.partitions;
  const target = partitionOfKey(account, partitions);
  const out: string[] = [];
  for (let i = 0; out.length < count; i++) if (partitionOfKey(`${account}-n${i}`, partitions) === target) out.push(`${account}-n${i}`);
  return out;
}

async function balanceOf(account: string): Promise<string> {
  return (await accountBalances(p.pool, account)).find((b) => b.currency === 'EUR')?.balanceMinor ?? '0';
}

async function statusesOf(account: string): Promise<Array<[string, string | null]>> {
  const [rows] = await p.pool.query('SELECT status, reason FROM transactions WHERE account = ? ORDER BY source_offset', [account]);
  return (rows as Array<{ status: string; reason: string | null }>).map((r) => [r.status, r.reason]);
}

async function drainedAndClean(): Promise<Awaited<ReturnType<typeof verify>>> {
  const report = await verify(p.env.config, { waitMs: 120_000 }, p.env.log);
  assert.equal(report.lag, 0, 'every offset committed');
  assert.equal(report.ok, true, JSON.stringify(report));
  return report;
}

test('twelve credits of 999,999,999,999,999,999 to one account: three rejected (balance_overflow), every later event of the partition applied, nothing retried', { timeout: 240_000 }, async () => {
  const account = `rich-${p.env.runId}`;
  const [other, third] = neighbours(account, 2) as [string, string];
  await produceKeyed(p.env.config, [
    ...Array.from({ length: 12 }, () => event(account, 'credit', BIG)),
    event(account, 'debit', '100'),
    event(account, 'credit', '7'),
    event(other, 'credit', '500'),
    event(account, 'transfer', '1000', { counterparty: third }),
    event(third, 'debit', '250'),
  ]);
  await drainedAndClean();

  assert.deepEqual(await statusesOf(account), [
    ...Array(9).fill(['applied', null]),
    ...Array(3).fill(['rejected', 'balance_overflow']),
    ['applied', null],
    ['applied', null],
    ['applied', null],
  ]);
  assert.equal(await balanceOf(account), (9n * BigInt(BIG) - 100n + 7n - 1000n).toString());
  assert.equal(await balanceOf(other), '500');
  assert.equal(await balanceOf(third), '750');

  // Temporal's record: every batch completed, its apply on the first attempt, no failed task.
  const runs = await batchRuns(p.temporal, p.env.config);
  assert.ok(runs.length > 0);
  for (const r of runs) {
    assert.equal(r.status, 'COMPLETED', r.workflowId);
    assert.deepEqual([r.applyAttempts, r.workflowTaskFailures, r.activityTaskFailures], [[1], 0, 0], r.workflowId);
  }
  assert.equal(await scrapeMetric(workerPort, 'ledgerflow_apply_errors_total'), 0, 'no failed database try at all');
  assert.equal(await scrapeMetric(workerPort, 'ledgerflow_transactions_stored_total', { status: 'rejected', reason: 'balance_overflow' }), 3);
});

test('a transfer from another partition that would take the receiver past the limit is returned to its sender when the receiver folds it', { timeout: 240_000 }, async () => {
  const partitions = p.env.config.kafka.partitions;
  const receiver = `full-${p.env.runId}`;
  let sender = '';
  for (let i = 0; !sender; i++) if (partitionOfKey(`payer-${p.env.runId}-${i}`, partitions) !== partitionOfKey(receiver, partitions)) sender = `payer-${p.env.runId}-${i}`;
  const transfer = event(sender, 'transfer', BIG, { counterparty: receiver });
  await produceKeyed(p.env.config, Array.from({ length: 9 }, () => event(receiver, 'credit', BIG)));
  await drainedAndClean();
  await produceKeyed(p.env.config, [event(sender, 'credit', BIG), transfer]);
  await drainedAndClean();
  // The sender's batch cannot see the receiver's balance: the transfer is applied, its credit pending.
  const [[pending]] = (await p.pool.query('SELECT status FROM transactions WHERE id = ?', [JSON.parse(transfer.value).id])) as unknown as [[{ status: string }]];
  assert.equal(pending.status, 'applied');
  // The receiver's next batch folds it: it would pass the limit, so it goes back.
  await produceKeyed(p.env.config, [event(receiver, 'debit', '1')]);
  await drainedAndClean();
  const [[returned]] = (await p.pool.query('SELECT status, reason FROM transactions WHERE id = ?', [JSON.parse(transfer.value).id])) as unknown as [[{ status: string; reason: string }]];
  assert.deepEqual([returned.status, returned.reason], ['rejected', 'balance_overflow']);
  assert.equal(await balanceOf(receiver), (9n * BigInt(BIG) - 1n).toString());
  assert.equal(await balanceOf(sender), BIG, 'the amount is back with the sender');
  const [[{ n }]] = (await p.pool.query('SELECT COUNT(*) AS n FROM balance_credits WHERE tx_id = ? AND account = ?', [JSON.parse(transfer.value).id, receiver])) as unknown as [[{ n: number }]];
  assert.equal(Number(n), 0, 'the receiver holds no pending credit past its limit');
  const [[day]] = (await p.pool.query("SELECT SUM(tx_count) AS n FROM rollup_day WHERE type = 'transfer' AND status = 'rejected' AND reason = 'balance_overflow'")) as unknown as [[{ n: string }]];
  assert.equal(Number(day.n), 1, 'the rollups moved it from applied to rejected');
  assert.equal(await scrapeMetric(workerPort, 'ledgerflow_transfers_returned_total'), 1);
});

test('an event a CHECK constraint refuses is parked with its bytes; the rest of its batch is applied; replay after the fix applies it exactly once', { timeout: 300_000 }, async () => {
  await admin.query("ALTER TABLE transactions ADD CONSTRAINT ck_test_poison CHECK (description IS NULL OR description <> 'poison')");
  const account = `chk-${p.env.runId}`;
  const [later] = neighbours(account, 1) as [string];
  const poison = event(account, 'credit', '50', { description: 'poison' });
  const sent = [event(account, 'credit', '100'), poison, event(account, 'debit', '30'), event(later, 'credit', '5'), event(account, 'credit', '20')];
  await produceKeyed(p.env.config, sent);
  const report = await drainedAndClean();
  assert.equal(report.parked, 1, 'the refused event is accounted for as parked, not missing');

  assert.deepEqual(await statusesOf(account), [['applied', null], ['applied', null], ['applied', null]]);
  assert.equal(await balanceOf(account), '90');
  assert.equal(await balanceOf(later), '5');
  const { items } = await listParked(p.pool, p.env.config.kafka.topic, { limit: 10, unresolved: true });
  assert.equal(items.length, 1);
  const parked = items[0] as (typeof items)[0];
  assert.equal(parked.payload, poison.value, 'the message as produced, byte for byte');
  assert.equal(parked.payloadExact, true);
  assert.equal(parked.account, account);
  assert.equal(parked.errno, 4025);
  assert.match(parked.reason, /ck_test_poison/);
  assert.match(parked.batchId, /^tx-/);
  assert.equal(await scrapeMetric(workerPort, 'ledgerflow_parked_events_total', { code: 'errno:4025' }), 1);
  for (const r of await batchRuns(p.temporal, p.env.config)) assert.deepEqual(r.applyAttempts, [1], `${r.workflowId}: isolated within its first attempt`);

  // The cause goes away; the operator replays it (twice: the second changes nothing).
  await admin.query('ALTER TABLE transactions DROP CONSTRAINT ck_test_poison');
  const cli = (args: string[]) => run('npx', ['tsx', path.resolve(__dirname, '../../src/cli.ts'), ...args], { env: p.env.childEnv(), cwd: path.resolve(__dirname, '../..') });
  const shown = JSON.parse((await cli(['parked', 'show', parked.id])).stdout) as { payload: string };
  assert.equal(shown.payload, poison.value);
  await cli(['parked', 'replay', parked.id]);
  await drainedAndClean();
  await cli(['parked', 'replay', parked.id]);
  const afterReplays = await drainedAndClean();
  assert.equal(afterReplays.parked, 0, 'resolved: its id is stored now');
  assert.equal(await balanceOf(account), '140');
  const [[{ n }]] = (await p.pool.query('SELECT COUNT(*) AS n FROM transactions WHERE id = ?', [JSON.parse(poison.value).id])) as unknown as [[{ n: number }]];
  assert.equal(Number(n), 1);
  assert.deepEqual((await listParked(p.pool, p.env.config.kafka.topic, { limit: 10, unresolved: true })).items, []);
  const all = await listParked(p.pool, p.env.config.kafka.topic, { limit: 10 });
  assert.deepEqual(all.items.map((x) => [x.id, x.resolved, x.replayCount]), [[parked.id, true, 2]]);
});

test('an error of no known class is retried a bounded number of times, then the event is isolated and parked', { timeout: 300_000 }, async () => {
  await admin.query(
    "CREATE TRIGGER lf_test_mystery BEFORE INSERT ON transactions FOR EACH ROW BEGIN IF NEW.description = 'mystery' THEN SIGNAL SQLSTATE 'HY000' SET MYSQL_ERRNO = 5999, MESSAGE_TEXT = 'mystery refusal'; END IF; END",
  );
  try {
    const account = `unk-${p.env.runId}`;
    const before = new Set((await batchRuns(p.temporal, p.env.config)).map((r) => r.workflowId));
    await produceKeyed(p.env.config, [event(account, 'credit', '10'), event(account, 'credit', '20', { description: 'mystery' }), event(account, 'credit', '30')]);
    const report = await drainedAndClean();
    assert.equal(report.parked, 1);
    assert.equal(await balanceOf(account), '40');
    const mine = (await batchRuns(p.temporal, p.env.config)).filter((r) => !before.has(r.workflowId));
    const attempts = mine.flatMap((r) => r.applyAttempts);
    const bound = p.env.config.worker.unknownFailureAttempts;
    assert.ok(attempts.includes(bound), `isolated on attempt ${bound}: ${attempts.join(',')}`);
    assert.ok(attempts.every((a) => a <= bound), `never more than ${bound} attempts: ${attempts.join(',')}`);
    assert.equal(await scrapeMetric(workerPort, 'ledgerflow_parked_events_total', { code: 'errno:5999' }), 1);
  } finally {
    await admin.query('DROP TRIGGER IF EXISTS lf_test_mystery');
  }
});

test('a store that refuses every event is a systemic fault: nothing parked, the batch waits (visibly) and is applied once the store takes events again', { timeout: 300_000 }, async () => {
  await admin.query("CREATE TRIGGER lf_test_closed BEFORE INSERT ON transactions FOR EACH ROW SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'store closed for the test'");
  const account = `sys-${p.env.runId}`;
  const parkedBefore = (await listParked(p.pool, p.env.config.kafka.topic, { limit: 100, unresolved: true })).items.length;
  try {
    const refusalsBefore = await scrapeMetric(workerPort, 'ledgerflow_store_refusals_total');
    await produceKeyed(p.env.config, [event(account, 'credit', '10'), event(account, 'credit', '20')]);
    // Held back, not parked: the worker says so, and so does the consumer's wait per partition.
    for (let i = 0; (await scrapeMetric(workerPort, 'ledgerflow_store_refusals_total')) < refusalsBefore + 2; i++) {
      assert.ok(i < 240, 'the worker reports the systemic fault');
      await new Promise((r) => setTimeout(r, 500));
    }
    for (let i = 0; (await scrapeMetric(consumerPort, 'ledgerflow_consumer_batch_age_seconds')) < 5; i++) {
      assert.ok(i < 240, 'the consumer shows its stalled partition');
      await new Promise((r) => setTimeout(r, 500));
    }
    assert.equal((await listParked(p.pool, p.env.config.kafka.topic, { limit: 10 })).items.filter((x) => x.account === account).length, 0, 'nothing parked');
    assert.deepEqual(await statusesOf(account), []);
  } finally {
    await admin.query('DROP TRIGGER IF EXISTS lf_test_closed');
  }
  const report = await drainedAndClean();
  assert.equal(report.parked, parkedBefore, 'nothing parked by the systemic fault');
  assert.equal(await balanceOf(account), '30');
  assert.equal(await scrapeMetric(consumerPort, 'ledgerflow_consumer_batch_age_seconds'), 0, 'no batch waits any more');
});
