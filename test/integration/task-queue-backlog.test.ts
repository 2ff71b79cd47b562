/**
 * The worker's autoscaling signal without KEDA's Temporal scaler: the task queue's backlog as the real
 * Temporal server counts it, exported as ledgerflow_task_queue_backlog
 * (docs/decisions/028-autoscaling-signals.md). Workflows are started on a queue no worker polls, so
 * their first workflow tasks wait in the backlog.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { startBacklogPoller } from '../../src/worker/backlog';
import { createMetrics } from '../../src/telemetry/metrics';
import { temporalConnectionOptions } from '../../src/temporal/connection';
import { createTestPipeline, type TestPipeline } from '../helpers/pipeline';

const WAITING = 3;
let env: TestPipeline;
let connection: Connection;
const ids: string[] = [];

before(async () => {
  env = await createTestPipeline('backlog');
  connection = await Connection.connect(temporalConnectionOptions(env.config));
});

after(async () => {
  const client = new Client({ connection, namespace: env.config.temporal.namespace });
  for (const id of ids) await client.workflow.getHandle(id).terminate('test over').catch(() => undefined);
  await connection?.close();
  await env?.dispose();
});

test('workflows nobody polls show as workflow-task backlog, and the poller exports it per queue type', { timeout: 120_000 }, async () => {
  const taskQueue = `backlog-${env.runId}`;
  const client = new Client({ connection, namespace: env.config.temporal.namespace });
  for (let i = 0; i < WAITING; i += 1) {
    const id = `backlog-${env.runId}-${i}`;
    await client.workflow.start('processBatch', { taskQueue, workflowId: id, args: [] });
    ids.push(id);
  }
  const metrics = createMetrics('worker');
  const poller = startBacklogPoller({
    describe: (request) => connection.workflowService.describeTaskQueue(request),
    namespace: env.config.temporal.namespace,
    taskQueue,
    intervalMs: 1_000,
    gauge: metrics.taskQueueBacklog,
    log: env.log,
  });
  try {
    // Temporal's count is approximate and refreshed on its own schedule: wait for it, bounded.
    const deadline = Date.now() + 90_000;
    let values: Record<string, number> = {};
    while (Date.now() < deadline) {
      const { values: samples } = await metrics.taskQueueBacklog.get();
      values = Object.fromEntries(samples.map((s) => [String(s.labels.queue_type), s.value]));
      if ((values.workflow ?? 0) >= WAITING) break;
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
    assert.equal(values.workflow, WAITING, JSON.stringify(values));
    assert.equal(values.activity, 0);
    const { values: samples } = await metrics.taskQueueBacklog.get();
    assert.ok(samples.every((s) => s.labels.task_queue === taskQueue));
  } finally {
    poller.stop();
  }
});
