import assert from 'node:assert/strict';
import { execFileSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { startApi, type ApiHandle } from '../../src/api';
import { createReviewActivities } from '../../src/activities/review';
import { train } from '../../src/fraud/train';
import { newTransactionId } from '../../src/domain/ids';
import type { SourcedEvent } from '../../src/domain/transaction';
import { createPool, type Pool } from '../../src/store/pool';
import { reversedTransactionIds } from '../../src/store/reviews';
import { accountBalances } from '../../src/store/queries';
import { temporalConnectionOptions } from '../../src/temporal/connection';
import { terminateRunningWorkflows } from '../../src/temporal/cleanup';
import { packEvents } from '../../src/temporal/packedBatch';
import type { BatchHeader, ReviewOutcome } from '../../src/workflows/types';
import { bearer, createTestKeys, type TestKeys } from '../helpers/apiKeys';
import { createTestPipeline, type TestPipeline } from '../helpers/pipeline';
import { exited, freePort, spawnLedgerflow, waitForStatus } from '../helpers/processes';

/**
 * The review workflow on real Temporal, a real worker process and MariaDB: a detected transaction
 * is held for review; approve keeps it, reject reverses its balance effect exactly once, no
 * decision escalates on the timer — and a SIGKILLed worker changes none of that.
 */
const ESCALATE_MS = 4_000;
let env: TestPipeline;
let keys: TestKeys;
let reviewer: { authorization: string };
let modelDir: string;
let api: ApiHandle;
let base: string;
let pool: Pool;
let temporal: Connection;
let client: Client;
let worker: ChildProcess | undefined;

before(async () => {
  keys = createTestKeys([
    { id: 'reviewer', scopes: ['review'] },
    { id: 'reader', scopes: ['read'] },
  ]);
  reviewer = bearer(keys.tokens.reviewer as string);
  // A small embedding model, so every flag carries a vector and a rejection adds exactly one to the fraud set.
  modelDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lf-review-model-'));
  const modelPath = path.join(modelDir, 'model.json');
  env = await createTestPipeline('review', { 'fraud.reviewEnabled': true, 'fraud.reviewEscalateAfterMs': ESCALATE_MS, 'api.keysFile': keys.file, 'fraud.modelPath': modelPath });
  train(env.config, { seed: 7, count: 6_000, accounts: 300, fraudRate: 0.02, out: modelPath }, env.log);
  api = await startApi(env.config, env.log);
  base = `http://127.0.0.1:${api.port}`;
  pool = createPool(env.config, 'app', 2);
  temporal = await Connection.connect(temporalConnectionOptions(env.config));
  client = new Client({ connection: temporal, namespace: env.config.temporal.namespace });
  worker = await startWorkerProcess();
});

after(async () => {
  if (worker && worker.exitCode === null && worker.signalCode === null) {
    worker.kill('SIGTERM');
    await exited(worker);
  }
  await api?.stop();
  await pool?.end();
  await temporal?.close();
  await env?.dispose();
  keys?.remove();
  if (modelDir) fs.rmSync(modelDir, { recursive: true, force: true });
});

async function startWorkerProcess(): Promise<ChildProcess> {
  const port = await freePort();
  const child = spawnLedgerflow('work', env.childEnv({ 'worker.httpPort': port }));
  await waitForStatus(`http://127.0.0.1:${port}/readyz`, 200, 90_000);
  return child;
}

/** A fresh account funded, then drained at once: the new-account rule scores it above the review threshold. */
function drain(account: string, offset: number): SourcedEvent[] {
  const at = Date.UTC(2026, 10, 25, 9, 0, offset);
  return [
    { id: newTransactionId(), account, type: 'credit', amountMinor: '500000', currency: 'EUR', occurredAt: new Date(at).toISOString(), partition: 0, offset: String(offset * 2) },
    { id: newTransactionId(), account, type: 'transfer', counterparty: `${account}-dest`, amountMinor: '450000', currency: 'EUR', occurredAt: new Date(at + 30_000).toISOString(), partition: 0, offset: String(offset * 2 + 1) },
  ];
}

const scenario = { approve: drain('rv-approve', 0), reject: drain('rv-reject', 1), timeout: drain('rv-timeout', 2) };
const drainId = (name: keyof typeof scenario) => (scenario[name][1] as SourcedEvent).id;

async function balance(account: string): Promise<string> {
  // The balance row plus transfer credits not folded into it yet, as the API reports it.
  return (await accountBalances(pool, account)).find((b) => b.currency === 'EUR')?.balanceMinor ?? '0';
}

async function decide(id: string, action: 'approve' | 'reject', body: Record<string, unknown> = { reviewer: 'alice', reason: 'checked with the customer' }, auth: Record<string, string> = reviewer) {
  const res = await fetch(`${base}/reviews/${id}/${action}`, { method: 'POST', headers: { 'content-type': 'application/json', ...auth }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

test('a detected transaction opens a review and a reviewTransaction workflow; the queue lists it', { timeout: 120_000 }, async () => {
  const events = [...scenario.approve, ...scenario.reject, ...scenario.timeout];
  const header: BatchHeader = {
    batchId: `tx-${env.config.kafka.topic}-0-0`,
    topic: env.config.kafka.topic,
    partition: 0,
    firstOffset: '0',
    lastOffset: String(events.length - 1),
    eventCount: events.length,
    rules: { maxAmountMinor: env.config.rules.maxAmountMinor, currencies: env.config.rules.currencies },
    receivedAtMs: Date.now(),
  };
  const args: [BatchHeader, Uint8Array] = [header, await packEvents(events)];
  const result = (await client.workflow.execute('processBatch', { taskQueue: env.config.temporal.taskQueue, workflowId: header.batchId, args })) as { flagged: number; reviews: number };
  assert.equal(result.reviews, 3);
  assert.equal(await balance('rv-reject'), '50000');

  const unauthorised = await fetch(`${base}/reviews/${drainId('approve')}/approve`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  assert.equal(unauthorised.status, 401);
  assert.equal((await decide(drainId('approve'), 'approve', { reason: 'no reviewer' })).status, 400);
  assert.equal((await decide(drainId('approve'), 'approve', { reviewer: '   ', reason: 'blank reviewer' })).status, 400);
  assert.equal((await decide(drainId('approve'), 'approve', undefined, bearer('lf_reviewer.wrongwrongwrongwrongwrongwrongwrongwrongwro'))).status, 401);
  assert.equal((await decide(drainId('approve'), 'approve', undefined, bearer(keys.tokens.reader as string))).status, 403, 'reading is not reviewing');

  const first = (await (await fetch(`${base}/reviews?status=open&limit=2`, { headers: reviewer })).json()) as { items: Array<{ txId: string }>; nextCursor: string };
  assert.equal(first.items.length, 2);
  const second = (await (await fetch(`${base}/reviews?status=open&limit=2&cursor=${first.nextCursor}`, { headers: reviewer })).json()) as { items: Array<{ txId: string }>; nextCursor: string | null };
  assert.equal(second.items.length, 1);
  assert.equal(second.nextCursor, null);
  assert.deepEqual([...first.items, ...second.items].map((r) => r.txId).sort(), ['approve', 'reject', 'timeout'].map((n) => drainId(n as keyof typeof scenario)).sort());
});

test('approve: the transaction stays applied, the decision is audited', { timeout: 60_000 }, async () => {
  const id = drainId('approve');
  assert.equal((await decide(id, 'approve')).status, 202);
  const outcome = (await client.workflow.getHandle(`review-${id}`).result()) as ReviewOutcome;
  assert.deepEqual(outcome, { txId: id, status: 'approved', reversed: false, escalated: false });
  assert.equal(await balance('rv-approve'), '50000');
  const review = (await (await fetch(`${base}/reviews/${id}`, { headers: reviewer })).json()) as { status: string; decidedBy: string; audit: Array<{ action: string; actor: string; reason: string }> };
  assert.equal(review.status, 'approved');
  assert.equal(review.decidedBy, 'alice');
  assert.deepEqual(review.audit.map((a) => a.action), ['opened', 'approve']);
  assert.equal(review.audit[1]?.reason, 'checked with the customer');
  assert.equal((await decide(id, 'reject')).status, 409, 'a decided review cannot be decided again');
});

test('worker SIGKILLed while reviews wait; reject then reverses the balance effect exactly once', { timeout: 180_000 }, async () => {
  worker?.kill('SIGKILL');
  await exited(worker as ChildProcess);
  worker = await startWorkerProcess();

  const id = drainId('reject');
  assert.equal((await decide(id, 'reject', { reviewer: 'bob', reason: 'customer denies the transfer' })).status, 202);
  const outcome = (await client.workflow.getHandle(`review-${id}`).result()) as ReviewOutcome;
  assert.equal(outcome.status, 'rejected');
  assert.equal(outcome.reversed, true);
  assert.equal(await balance('rv-reject'), '500000', 'the transfer out is undone');
  assert.equal(await balance('rv-reject-dest'), '0');
  assert.deepEqual([...(await reversedTransactionIds(pool))], [id], 'verify leaves the reversed transaction out of the balance sums');

  // The activity again (as a retry after a crash would run it): guarded by status, nothing moves twice.
  const again = await createReviewActivities(pool).decideReview({ txId: id, action: 'reject', actor: 'bob', reason: 'retry' });
  assert.deepEqual(again, { status: 'rejected', reversed: true });
  assert.equal(await balance('rv-reject'), '500000');
  const [audit] = await pool.query('SELECT action FROM review_audit WHERE tx_id = ? ORDER BY id', [id]);
  assert.deepEqual((audit as Array<{ action: string }>).map((a) => a.action), ['opened', 'reject', 'reversed']);
  const reviewVectors = async (txId: string) => {
    const [rows] = await pool.query("SELECT COUNT(*) AS n FROM fraud_vectors WHERE tx_id = ? AND source = 'review'", [txId]);
    return Number((rows as Array<{ n: string }>)[0]?.n);
  };
  assert.equal(await reviewVectors(id), 1, 'the rejected transaction\'s vector joins the confirmed-fraud set, once');
  assert.equal(await reviewVectors(drainId('approve')), 0, 'an approved one does not');

  const history = await client.workflow.getHandle(`review-${id}`).fetchHistory();
  await Worker.runReplayHistory({ workflowsPath: require.resolve('../../src/workflows') }, history, `review-${id}`);
  if (process.env.LF_RECORD_HISTORIES === '1') {
    const temporalBin = path.resolve(env.config.stack.dir, 'venv', 'bin', 'temporal');
    const json = execFileSync(temporalBin, ['workflow', 'show', '--workflow-id', `review-${id}`, '--address', env.config.temporal.address, '--output', 'json']);
    fs.writeFileSync(path.resolve(__dirname, '..', 'fixtures', 'histories', 'reviewTransaction.json'), json);
  }
});

test('no decision in time: the review escalates on the timer and can still be decided', { timeout: 120_000 }, async () => {
  const id = drainId('timeout');
  const escalated = await waitFor('escalation', async () => {
    const [rows] = await pool.query('SELECT status FROM reviews WHERE tx_id = ?', [id]);
    return (rows as Array<{ status: string }>)[0]?.status === 'escalated' ? true : undefined;
  });
  assert.equal(escalated, true);
  const listed = (await (await fetch(`${base}/reviews?status=escalated`, { headers: reviewer })).json()) as { items: Array<{ txId: string }> };
  assert.deepEqual(listed.items.map((r) => r.txId), [id]);
  assert.equal((await decide(id, 'approve', { reviewer: 'carol', reason: 'escalation: known customer' })).status, 202);
  const outcome = (await client.workflow.getHandle(`review-${id}`).result()) as ReviewOutcome;
  assert.deepEqual(outcome, { txId: id, status: 'approved', reversed: false, escalated: true });
  const [audit] = await pool.query('SELECT action, actor FROM review_audit WHERE tx_id = ? ORDER BY id', [id]);
  assert.deepEqual((audit as Array<{ action: string; actor: string }>).map((a) => `${a.action}:${a.actor}`), ['opened:detector', 'escalate:timer', 'approve:carol']);
});

test("a scratch run's cleanup terminates its workflows still waiting for a decision", { timeout: 60_000 }, async () => {
  const waiting = await client.workflow.start('reviewTransaction', {
    taskQueue: env.config.temporal.taskQueue,
    workflowId: `review-cleanup-${Date.now()}`,
    args: [{ txId: 'cleanup', account: 'rv-cleanup', score: 0.99, escalateAfterMs: 3_600_000 }],
  });
  await waitFor('the review to be listed as running', async () => ((await waiting.describe()).status.name === 'RUNNING' ? true : undefined));
  const terminated = await waitFor('the listing to show it', async () => (await terminateRunningWorkflows(env.config, 'test cleanup')) || undefined);
  assert.ok(terminated >= 1);
  assert.equal((await waiting.describe()).status.name, 'TERMINATED');
  assert.equal(await terminateRunningWorkflows(env.config, 'test cleanup'), 0);
});
