import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Client } from '@temporalio/client';
import { execFileSync } from 'node:child_process';
import { Worker } from '@temporalio/worker';
import { createActivities } from '../../src/activities';
import { startProducer } from '../../src/producer';
import type { Pool } from '../../src/store/pool';
import { allBalances } from '../../src/store/queries';
import { dataConverter } from '../../src/temporal/codec';
import { verify } from '../../src/verify';
import type { ApplyBatchInput } from '../../src/workflows/types';
import type { ConsumerHandle } from '../../src/consumer';
import { expectedFromTopic, rollupTotals, storedBalances } from '../helpers/ledger';
import { firstBatchOf, startTestPipeline, type RunningPipeline, type TestPipeline } from '../helpers/pipeline';

/**
 * Guarantee 1 and 2 on real Kafka, Temporal and MariaDB: 20,000 transactions over 3 partitions
 * (batches covering several partitions),
 * transfers across partitions and 1 % malformed → every valid one stored exactly once, balances
 * equal to the applied sum, every malformed one in the DLQ with its reason.
 */
const COUNT = 20_000;
let p: RunningPipeline;
let env: TestPipeline;
let consumer: ConsumerHandle;
let pool: Pool;

before(async () => {
  // One batch in flight: every batch covers all 3 partitions (the multi-partition path, whose
  // recorded history the replay test keeps).
  p = await startTestPipeline('once', { 'consumer.batchesInFlight': 1 });
  ({ env, consumer, pool } = p);
});

after(async () => {
  await p?.stop();
});

async function snapshot(): Promise<{ rows: string; balances: string; rollups: string }> {
  const [[rows]] = (await pool.query('SELECT COUNT(*) AS n FROM transactions')) as unknown as [[{ n: string }]];
  // Balances as readers see them: the balance row plus transfer credits not folded into it yet.
  const balances = (await allBalances(pool)).map((b) => `${b.account}/${b.currency}:${b.balance_minor}`).sort().join(',');
  const [[rollups]] = (await pool.query('SELECT SUM(tx_count) AS c, SUM(amount_minor) AS s FROM rollup_minute')) as unknown as [[{ c: string; s: string }]];
  return { rows: rows.n, balances, rollups: `${rollups.c}/${rollups.s}` };
}

test(`${COUNT} transactions with transfers and 1% malformed: 0 missing, 0 duplicated, balances exact, DLQ complete`, { timeout: 600_000 }, async () => {
  const producer = await startProducer(env.config, { ratePerSec: 0, count: COUNT, accounts: 500, seed: 20261125, malformedRatio: 0.01 }, env.log);
  const produced = await producer.done;
  assert.equal(produced.sent, COUNT);
  assert.ok(produced.malformed > 100, `expected about 1% malformed, got ${produced.malformed}`);

  const report = await verify(env.config, { waitMs: 300_000 }, env.log);
  assert.equal(report.lag, 0, 'consumer drained and committed');
  assert.equal(report.produced, COUNT);
  assert.equal(report.missing, 0, `missing: ${report.examples.missing.join(', ')}`);
  assert.equal(report.duplicated, 0);
  assert.equal(report.contentMismatches, 0);
  assert.equal(report.stored, report.valid);
  assert.equal(report.balanceMismatches, 0, report.examples.balanceMismatches.join('; '));
  assert.equal(report.malformed, produced.malformed);
  assert.equal(report.dlqFound, produced.malformed);
  assert.equal(report.dlqWithoutReason, 0);
  assert.ok(report.applied > 0 && report.rejected > 0, 'both applied and rejected (insufficient funds) transactions');
  assert.equal(report.ok, true);
  assert.equal(consumer.handledEvents(), COUNT, 'each offset handled once: no re-fetch of committed slices');

  // Independently of verify and of the stored rows' content: what the topic's events must have
  // done. `transactions` is keyed by id, so a batch applied twice still shows one row per id; only
  // balances and rollups show it, and they must equal these sums of each id counted once.
  const expected = await expectedFromTopic(env.config, pool);
  const nonZero = new Map([...expected.balances].filter(([, v]) => v !== 0n));
  assert.deepEqual(await storedBalances(pool), nonZero, 'every balance equals the sum of its applied events, each counted once');
  const rollups = await rollupTotals(pool);
  assert.deepEqual(rollups.counts, expected.counts, 'rollup counts: each event once');
  assert.deepEqual(rollups.amounts, expected.amounts, 'rollup amounts: each event once');
  let ids = 0n;
  for (const n of expected.counts.values()) ids += n;
  assert.equal(ids, BigInt(COUNT - produced.malformed), 'every valid event counted');

  const [transfers] = await pool.query("SELECT COUNT(*) AS n FROM transactions WHERE type = 'transfer' AND status = 'applied'");
  assert.ok(Number((transfers as Array<{ n: string }>)[0]?.n) > 1000, 'transfers were applied');
  const [reasons] = await pool.query("SELECT DISTINCT reason FROM transactions WHERE status = 'rejected'");
  assert.ok((reasons as Array<{ reason: string }>).every((r) => r.reason.length > 0), 'every rejection has a reason');
});

test('the same batch applied twice changes nothing (activity and whole workflow)', { timeout: 120_000 }, async () => {
  const { workflowId: batchId, header, packed, input, history } = await firstBatchOf(p);
  assert.ok(input.events.length > 0);
  const client = new Client({ connection: p.temporal, namespace: env.config.temporal.namespace, dataConverter: dataConverter() });

  const before = await snapshot();
  const activities = createActivities({ pool, overdraftLimitMinor: BigInt(env.config.rules.overdraftLimitMinor) });
  const applyInput: ApplyBatchInput = { batchId: input.batchId, events: input.events, rejections: {} };
  const again = await activities.applyBatch(applyInput);
  assert.equal(again.inserted, 0);
  assert.equal(again.duplicates, input.events.length);
  const partitions = (header.parts ?? [header]).map((part) => part.partition);
  const againPacked = await activities.applyBatch({ batchId: header.batchId, partitions, eventCount: header.eventCount, rules: header.rules }, packed);
  assert.deepEqual([againPacked.inserted, againPacked.duplicates], [0, header.eventCount]);

  // The whole workflow again: as the consumer starts it (packed events), and with the events
  // inline, as a consumer from before decision 012 did (a rolling upgrade runs both).
  const rerun = await client.workflow.execute('processBatch', { taskQueue: env.config.temporal.taskQueue, workflowId: `${batchId}-rerun`, args: [header, packed] });
  assert.equal((rerun as { inserted: number }).inserted, 0);
  const rerunInline = await client.workflow.execute('processBatch', { taskQueue: env.config.temporal.taskQueue, workflowId: `${batchId}-rerun-inline`, args: [input] });
  assert.deepEqual([(rerunInline as { inserted: number }).inserted, (rerunInline as { duplicates: number }).duplicates], [0, input.events.length]);
  assert.deepEqual(await snapshot(), before);

  await Worker.runReplayHistory({ workflowsPath: require.resolve('../../src/workflows'), dataConverter: dataConverter() }, history, batchId);

  // A batch that covered several partitions (its id ends in +<other parts>) replays too.
  const [multi] = await pool.query("SELECT batch_id FROM transactions WHERE batch_id LIKE '%+%' ORDER BY source_offset LIMIT 1");
  const multiId = (multi as Array<{ batch_id: string }>)[0]?.batch_id;
  assert.ok(multiId, 'some batches covered several partitions');
  const multiHistory = await client.workflow.getHandle(multiId).fetchHistory();
  await Worker.runReplayHistory({ workflowsPath: require.resolve('../../src/workflows'), dataConverter: dataConverter() }, multiHistory, multiId);
  // Keep its recorded history for the replay test in the unit suite (with LF_RECORD_HISTORIES=1).
  const fixture = path.resolve(__dirname, '..', 'fixtures', 'histories', 'processBatch.json');
  if (process.env.LF_RECORD_HISTORIES === '1') {
    // The temporal CLI writes the canonical JSON history format that historyFromJSON reads.
    const temporalBin = path.resolve(env.config.stack.dir, 'venv', 'bin', 'temporal');
    const json = execFileSync(temporalBin, ['workflow', 'show', '--workflow-id', multiId, '--address', env.config.temporal.address, '--output', 'json']);
    fs.writeFileSync(fixture, json);
  }
});
