import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, before, test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { newTransactionId } from '../../src/domain/ids';
import type { SourcedEvent } from '../../src/domain/transaction';
import { createPool, type Pool } from '../../src/store/pool';
import { temporalConnectionOptions } from '../../src/temporal/connection';
import { terminateRunningWorkflows } from '../../src/temporal/cleanup';
import { packEvents } from '../../src/temporal/packedBatch';
import { dataConverter } from '../../src/temporal/codec';
import type { BatchHeader } from '../../src/workflows/types';
import { createTestPipeline, type TestPipeline } from '../helpers/pipeline';
import { exited, freePort, spawnLedgerflow, waitForStatus } from '../helpers/processes';

/**
 * The review queue cannot flood Temporal: on a real worker process, Temporal and MariaDB, a batch
 * opens at most fraud.reviewOpensPerBatchMax reviews and none once fraud.reviewQueueMax are
 * undecided; every other candidate stays an applied, flagged transaction, counted on /metrics.
 */
const PER_BATCH = 2;
const QUEUE_MAX = 3;
let env: TestPipeline;
let pool: Pool;
let temporal: Connection;
let client: Client;
let worker: ChildProcess | undefined;
let metricsUrl: string;

before(async () => {
  env = await createTestPipeline('review-queue', { 'fraud.reviewEnabled': true, 'fraud.reviewOpensPerBatchMax': PER_BATCH, 'fraud.reviewQueueMax': QUEUE_MAX });
  pool = createPool(env.config, 'app', 2);
  temporal = await Connection.connect(temporalConnectionOptions(env.config));
  client = new Client({ connection: temporal, namespace: env.config.temporal.namespace, dataConverter: dataConverter() });
  const port = await freePort();
  metricsUrl = `http://127.0.0.1:${port}/metrics`;
  worker = spawnLedgerflow('work', env.childEnv({ 'worker.httpPort': port }));
  await waitForStatus(`http://127.0.0.1:${port}/readyz`, 200, 90_000);
});

after(async () => {
  if (env) await terminateRunningWorkflows(env.config, 'review-queue test cleanup').catch(() => undefined);
  if (worker && worker.exitCode === null && worker.signalCode === null) {
    worker.kill('SIGTERM');
    await exited(worker);
  }
  await pool?.end();
  await temporal?.close();
  await env?.dispose();
});

/** Fresh accounts funded and drained at once: each drain scores 0.95 (new account, big transfer out). */
function drains(batch: number, count: number): SourcedEvent[] {
  const at = Date.UTC(2026, 10, 25, 9, batch);
  return Array.from({ length: count }, (_, i) => {
    const account = `rq-${batch}-${i}`;
    return [
      { id: newTransactionId(), account, type: 'credit', amountMinor: '500000', currency: 'EUR', occurredAt: new Date(at).toISOString() },
      { id: newTransactionId(), account, type: 'transfer', counterparty: `${account}-dest`, amountMinor: '450000', currency: 'EUR', occurredAt: new Date(at + 30_000).toISOString() },
    ] as const;
  })
    .flat()
    .map((e, offset) => ({ ...e, partition: 0, offset: String(batch * 1000 + offset) }) as SourcedEvent);
}

async function runBatch(batch: number, events: SourcedEvent[]): Promise<{ flagged: number; reviews: number }> {
  const header: BatchHeader = {
    batchId: `tx-${env.config.kafka.topic}-0-${batch * 1000}`,
    topic: env.config.kafka.topic,
    partition: 0,
    firstOffset: String(batch * 1000),
    lastOffset: String(batch * 1000 + events.length - 1),
    eventCount: events.length,
    rules: { maxAmountMinor: env.config.rules.maxAmountMinor, currencies: env.config.rules.currencies },
    receivedAtMs: Date.now(),
  };
  return (await client.workflow.execute('processBatch', { taskQueue: env.config.temporal.taskQueue, workflowId: header.batchId, args: [header, await packEvents(events)] })) as { flagged: number; reviews: number };
}

/** A sample of the worker's /metrics, by name and (optionally) one label. */
async function metric(name: string, label = ''): Promise<number> {
  const text = await (await fetch(metricsUrl)).text();
  const line = text.split('\n').find((l) => (l.startsWith(`${name}{`) || l.startsWith(`${name} `)) && l.includes(label));
  assert.ok(line, `${name} ${label} on /metrics`);
  return Number(line.split(' ').pop());
}

async function count(sql: string): Promise<number> {
  const [rows] = await pool.query(sql);
  return Number((rows as Array<{ n: string }>)[0]?.n);
}

test('five candidates in a batch: two reviews open, three stay flags; the next batch fills the queue and no more', { timeout: 180_000 }, async () => {
  const first = await runBatch(1, drains(1, 5));
  assert.equal(first.flagged, 5);
  assert.equal(first.reviews, PER_BATCH);
  const second = await runBatch(2, drains(2, 5));
  assert.equal(second.flagged, 5);
  assert.equal(second.reviews, QUEUE_MAX - PER_BATCH, 'only the room left in the queue');
  const third = await runBatch(3, drains(3, 5));
  assert.equal(third.reviews, 0, 'a full queue opens nothing');

  assert.equal(await count("SELECT COUNT(*) AS n FROM reviews WHERE status = 'open'"), QUEUE_MAX);
  assert.equal(await count('SELECT COUNT(*) AS n FROM fraud_flags'), 15, 'every candidate is still flagged');
  assert.equal(await count("SELECT COUNT(*) AS n FROM transactions WHERE status = 'applied'"), 30, 'and applied: the queue never holds up the ledger');
  const [opened] = await pool.query('SELECT tx_id FROM reviews');
  for (const { tx_id: id } of opened as Array<{ tx_id: string }>) {
    assert.equal((await client.workflow.getHandle(`review-${id}`).describe()).status.name, 'RUNNING', `review-${id} waits for a reviewer`);
  }

  assert.equal(await metric('ledgerflow_fraud_reviews_opened_total'), QUEUE_MAX);
  assert.equal(await metric('ledgerflow_fraud_reviews_not_queued_total', 'reason="batch_limit"'), 3 * 3);
  assert.equal(await metric('ledgerflow_fraud_reviews_not_queued_total', 'reason="queue_full"'), 1 + PER_BATCH);
  assert.equal(await metric('ledgerflow_fraud_review_queue_depth'), QUEUE_MAX);
  assert.equal(await metric('ledgerflow_fraud_review_queue_max'), QUEUE_MAX);
});
