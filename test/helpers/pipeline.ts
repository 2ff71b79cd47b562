import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import type { Config, ConfigOverrides } from '../../src/config';
import { startConsumer, type ConsumerHandle } from '../../src/consumer';
import { createScratchRun } from '../../src/stack/scratch';
import { createPool, type Pool } from '../../src/store/pool';
import { temporalConnectionOptions } from '../../src/temporal/connection';
import { createLogger, type Logger } from '../../src/telemetry/log';
import { startWorker, type WorkerHandle } from '../../src/worker';
import type { BatchHeader, ProcessBatchInput } from '../../src/workflows/types';
import { unpackEvents } from '../../src/temporal/packedBatch';
import { dataConverter, GzipPayloadCodec } from '../../src/temporal/codec';
import type { Payload } from '@temporalio/common';

/**
 * An isolated pipeline on the real local stack: its own topic, DLQ, consumer group, task queue
 * and database, so integration tests never see each other's data (or the demo's).
 */
export interface TestPipeline {
  config: Config;
  log: Logger;
  runId: string;
  startWorker(): Promise<WorkerHandle>;
  startConsumer(): Promise<ConsumerHandle>;
  /** Environment that makes a child `ledgerflow` process use this run's topic, queue and database. */
  childEnv(extra?: ConfigOverrides): NodeJS.ProcessEnv;
  /** Drops this run's database and topics. */
  dispose(): Promise<void>;
}

export async function createTestPipeline(name: string, extra: ConfigOverrides = {}): Promise<TestPipeline> {
  const run = await createScratchRun(name, {
    'consumer.httpPort': 0,
    'worker.httpPort': 0,
    'worker.sdkMetricsPort': 0,
    'api.port': 0,
    'log.level': 'warn',
    // Review workflows wait for a human; only the tests about reviews start them.
    'fraud.reviewEnabled': false,
    ...extra,
  });
  const { config } = run;
  const log = createLogger(config.log.level, name);
  return {
    config,
    log,
    runId: run.runId,
    startWorker: () => startWorker(config, log),
    startConsumer: () => startConsumer(config, log),
    childEnv: run.childEnv,
    dispose: run.dispose,
  };
}

/** A started pipeline (worker + consumer) with an app pool and a Temporal connection on its database. */
export interface RunningPipeline {
  env: TestPipeline;
  worker: WorkerHandle;
  consumer: ConsumerHandle;
  pool: Pool;
  temporal: Connection;
  stop(): Promise<void>;
}

export async function startTestPipeline(name: string, extra: ConfigOverrides = {}): Promise<RunningPipeline> {
  const env = await createTestPipeline(name, extra);
  const started: Partial<RunningPipeline> = { env };
  const stop = async () => {
    await started.consumer?.stop();
    await started.worker?.stop();
    await env.dispose();
    await started.pool?.end();
    await started.temporal?.close();
  };
  try {
    started.worker = await env.startWorker();
    started.consumer = await env.startConsumer();
    started.pool = createPool(env.config, 'app', 2);
    started.temporal = await Connection.connect(temporalConnectionOptions(env.config));
    return { ...(started as Omit<RunningPipeline, 'stop'>), stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/**
 * The recorded arguments and history of the batch workflow that started at partition 0, offset 0:
 * its header and packed events as the consumer sent them, and `input`, the same batch with its
 * events inline (the shape an older consumer started workflows with).
 */
export async function firstBatchOf(p: RunningPipeline): Promise<{ workflowId: string; header: BatchHeader; packed: Uint8Array; input: ProcessBatchInput; history: Awaited<ReturnType<WorkflowHandle['fetchHistory']>> }> {
  const client = new Client({ connection: p.temporal, namespace: p.env.config.temporal.namespace, dataConverter: dataConverter() });
  // A batch covering several partitions has the number of its other parts appended to its id.
  const ids = Array.from({ length: p.env.config.kafka.partitions }, (_, others) => `tx-${p.env.config.kafka.topic}-0-0${others > 0 ? `+${others}` : ''}`);
  const found = await Promise.all(ids.map((id) => client.workflow.getHandle(id).describe().then(() => id, () => null)));
  const workflowId = found.find((id) => id !== null);
  if (!workflowId) throw new Error(`no batch workflow starts at partition 0, offset 0 (${ids[0]}…)`);
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const recorded = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads ?? [];
  if (recorded.length !== 2 || !recorded[0]?.data || !recorded[1]?.data) throw new Error(`${workflowId}: expected a header and packed events as the workflow input`);
  // The header went through the payload codec (gzip above a size): decode it the same way.
  const [headerPayload] = await new GzipPayloadCodec().decode([recorded[0] as Payload]);
  const header = JSON.parse(Buffer.from(headerPayload?.data as Uint8Array).toString('utf8')) as BatchHeader;
  const packed = recorded[1].data;
  const { eventCount, ...rest } = header;
  return { workflowId, header, packed, input: { ...rest, events: await unpackEvents(packed, eventCount) }, history };
}
