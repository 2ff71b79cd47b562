import { Client, Connection, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { EachBatchPayload } from 'kafkajs';
import type { Config } from '../config';
import { connectProducerWithTopics, createKafka } from '../kafka/client';
import { consumerGroupLag } from '../kafka/offsets';
import { temporalConnectionOptions } from '../temporal/connection';
import type { Logger } from '../telemetry/log';
import { createMetrics } from '../telemetry/metrics';
import { startProbeServer } from '../telemetry/server';
import { workflowClientInterceptors } from '../telemetry/temporal-tracing';
import { withBatchSpan } from '../telemetry/trace-context';
import type { ApplyBatchResult, ProcessBatchInput } from '../workflows/types';
import { buildBatch, slices } from './batch';
import { sendToDlq } from './dlq';
import { dataConverter } from '../temporal/codec';

const HEARTBEAT_EVERY_MS = 3_000;
const LAG_REFRESH_MS = 5_000;
/** Rough size of one event: lets a fetch wait (linger) until about half a batch is there. */
const EVENT_SIZE_ESTIMATE_BYTES = 100;

export interface ConsumerHandle {
  stop(): Promise<void>;
  /** Batches completed since start (for tests and the demo). */
  completedBatches(): number;
  /** Kafka messages handed on (workflow or DLQ) and committed since start; in a run without faults each offset counts once. */
  handledEvents(): number;
  /** Rejects when the consumer crashed and will not restart by itself: the process must exit. */
  failed: Promise<never>;
}

/**
 * About one batch per partition per fetch, and room in the fetch for every partition processed at
 * once. A fetch is capped as a whole (kafkajs maxBytes, 10 MiB by default): with 4 MiB per
 * partition the broker filled it from 2-3 partitions, and the others waited (measured in bench/).
 */
export function fetchSizes(batchMaxEvents: number, partitionsConcurrently: number): { maxBytesPerPartition: number; maxBytes: number } {
  const maxBytesPerPartition = Math.min(4 << 20, Math.max(64 << 10, batchMaxEvents * EVENT_RECORD_BYTES_MAX));
  return { maxBytesPerPartition, maxBytes: Math.min(FETCH_BYTES_MAX, Math.max(10 << 20, maxBytesPerPartition * partitionsConcurrently)) };
}
const MEMBERSHIP_ERRORS = new Set(['UNKNOWN_MEMBER_ID', 'ILLEGAL_GENERATION', 'REBALANCE_IN_PROGRESS']);

/** The group-membership protocol error inside a (possibly wrapped) kafkajs error, or null. */
export function groupMembershipError(err: unknown): Error | null {
  for (let e = err as { type?: string; originalError?: unknown } | undefined, depth = 0; e && depth < 5; e = e.originalError as typeof e, depth++) {
    if (typeof e.type === 'string' && MEMBERSHIP_ERRORS.has(e.type)) return e as unknown as Error;
  }
  return null;
}

/** A generous size of one record on the wire (value ~250 B plus key, headers and record overhead). */
const EVENT_RECORD_BYTES_MAX = 512;
const FETCH_BYTES_MAX = 64 << 20;

/**
 * Kafka consumer group → one processBatch workflow per partition slice → commit after completion.
 * Offsets are committed only once the workflow (and so the database transaction) has finished, in
 * offset order per partition: a crash at any point replays from the last commit, idempotently.
 */
export async function startConsumer(config: Config, log: Logger): Promise<ConsumerHandle> {
  const metrics = createMetrics('consumer');
  let draining = false;
  const probe = await startProbeServer(config.api.host, config.consumer.httpPort, metrics.registry, () => !draining);
  const kafka = createKafka(config, 'consumer', log);
  const { producer: dlqProducer } = await connectProducerWithTopics(config, kafka);
  const connection = await Connection.connect(temporalConnectionOptions(config));
  const client = new Client({ connection, namespace: config.temporal.namespace, interceptors: workflowClientInterceptors(), dataConverter: dataConverter() });
  const consumer = kafka.consumer({
    groupId: config.kafka.groupId,
    maxWaitTimeInMs: Math.max(1, config.consumer.lingerMs),
    minBytes: Math.min(1 << 20, Math.ceil(config.consumer.batchMaxEvents / 2) * EVENT_SIZE_ESTIMATE_BYTES),
    ...fetchSizes(config.consumer.batchMaxEvents, config.consumer.partitionsConcurrently),
    sessionTimeout: config.consumer.sessionTimeoutMs,
    heartbeatInterval: Math.min(3_000, Math.floor(config.consumer.sessionTimeoutMs / 3)),
  });
  await consumer.connect();
  await consumer.subscribe({ topic: config.kafka.topic, fromBeginning: true });
  let completed = 0;
  let handled = 0;

  const runWorkflow = async (input: ProcessBatchInput): Promise<ApplyBatchResult> => {
    const options = { taskQueue: config.temporal.taskQueue, workflowId: input.batchId, args: [input] as [ProcessBatchInput] };
    for (;;) {
      try {
        const handle = await client.workflow.start('processBatch', options);
        return (await handle.result()) as ApplyBatchResult;
      } catch (err) {
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
        // A run from before a restart still holds this id and may cover other offsets: let it
        // finish, then run ours (its already-applied events are skipped as duplicates).
        log.info({ workflowId: input.batchId }, 'workflow id busy, waiting for the earlier run');
        await client.workflow.getHandle(input.batchId).result().catch(() => undefined);
      }
    }
  };

  const eachBatch = async ({ batch, heartbeat, isRunning, isStale, resolveOffset }: EachBatchPayload) => {
    const { topic, partition } = batch;
    for (const messages of slices(batch.messages, config.consumer.batchMaxEvents)) {
      if (!isRunning() || isStale() || draining) return;
      const started = Date.now();
      const { input, malformed } = buildBatch(topic, partition, messages, config.rules, started);
      const beat = setInterval(() => heartbeat().catch(() => undefined), HEARTBEAT_EVERY_MS);
      try {
        await sendToDlq(dlqProducer, config.kafka.dlqTopic, topic, partition, malformed);
        for (const m of malformed) metrics.dlqEvents.inc({ field: m.field });
        const result = input.events.length > 0 ? await withBatchSpan(input, messages, () => runWorkflow(input)) : undefined;
        await consumer.commitOffsets([{ topic, partition, offset: (BigInt(input.lastOffset) + 1n).toString() }]).catch((err: unknown) => {
          // After a broker restart the coordinator may have dropped this member. kafkajs rejoins
          // the group for these errors, but only when it sees them unwrapped: its commit retrier
          // wraps them in a non-retriable error and the consumer crashed instead (chaos, kafka-kill).
          // The slice stays uncommitted and is redelivered; applying it again changes nothing.
          throw groupMembershipError(err) ?? err;
        });
        // Advances kafkajs's fetch position: without it the next fetch starts again at the old offset.
        resolveOffset(input.lastOffset);
        completed += 1;
        handled += messages.length;
        metrics.batches.inc({ partition });
        metrics.batchSize.observe(messages.length);
        metrics.batchDuration.observe((Date.now() - started) / 1000);
        metrics.eventsConsumed.inc({ topic, partition }, messages.length);
        const committedAtMs = Date.now();
        for (const m of messages) metrics.produceToCommit.observe(Math.max(0, committedAtMs - Number(m.timestamp)) / 1000);
        log.debug({ batchId: input.batchId, partition, firstOffset: input.firstOffset, lastOffset: input.lastOffset, dlq: malformed.length, ...result }, 'batch committed');
      } finally {
        clearInterval(beat);
      }
      await heartbeat().catch(() => undefined);
    }
  };

  // Lag from the broker's view (high watermark − group commit), on a timer: it keeps moving even
  // when this consumer is stuck, so a stall with growing lag is visible.
  const lagAdmin = kafka.admin();
  await lagAdmin.connect();
  const refreshLag = async () => {
    for (const { partition, lag } of await consumerGroupLag(lagAdmin, config.kafka.topic, config.kafka.groupId)) {
      metrics.consumerLag.set({ topic: config.kafka.topic, partition }, Number(lag));
    }
  };
  const lagTimer = setInterval(() => refreshLag().catch((err: Error) => log.warn({ err: err.message }, 'lag refresh failed')), LAG_REFRESH_MS);

  // kafkajs restarts itself after most errors; when it will not, stop looking healthy so the
  // process exits (CLI) or the pod is restarted, instead of idling with partitions assigned.
  let fail!: (err: Error) => void;
  const failed = new Promise<never>((_resolve, reject) => (fail = reject));
  failed.catch(() => undefined);
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    if (payload.restart) return;
    log.fatal({ err: payload.error.message, groupId: payload.groupId }, 'consumer crashed and will not restart');
    draining = true;
    probe.setUnhealthy();
    fail(payload.error);
  });

  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: config.consumer.partitionsConcurrently,
    eachBatch,
  });
  probe.setReady(true);
  log.info({ topic: config.kafka.topic, groupId: config.kafka.groupId }, 'consumer started');

  return {
    completedBatches: () => completed,
    handledEvents: () => handled,
    failed,
    stop: async () => {
      // Readiness goes false first; the current slice of each partition finishes and commits.
      draining = true;
      probe.setReady(false);
      clearInterval(lagTimer);
      const deadline = Date.now() + config.shutdown.graceMs;
      const until = (ms: number) => new Promise<false>((resolve) => setTimeout(() => resolve(false), Math.max(ms, 0)).unref());
      const drained = await Promise.race([consumer.stop().then(() => true), until(deadline - Date.now())]);
      if (!drained) {
        // Uncommitted slices are simply redelivered to the next owner; applying them again is a no-op.
        log.warn({ graceMs: config.shutdown.graceMs }, 'grace period over with batches in flight; leaving them uncommitted');
      }
      // Leaving the group waits for the batch kafkajs still runs: past the grace it gets one second,
      // then the process exits anyway (the session timeout hands the partitions over).
      const closed = Promise.allSettled([consumer.disconnect(), dlqProducer.disconnect(), lagAdmin.disconnect()]);
      await Promise.race([closed, until(Math.max(1_000, deadline - Date.now()))]);
      // Closing Temporal under a still-waiting batch would crash its pending call; the process exits anyway.
      if (drained) await connection.close();
      await probe.close();
      log.info({ completedBatches: completed, handledEvents: handled }, 'consumer stopped');
    },
  };
}
