import { Client, Connection, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { EachBatchPayload, KafkaMessage } from 'kafkajs';
import type { Config } from '../config';
import { connectProducerWithTopics, createKafka } from '../kafka/client';
import { consumerGroupLag } from '../kafka/offsets';
import { undecodableCause } from '../kafka/codecs';
import { checkTemporalTls, explainTemporalStartError, temporalConnectionOptions } from '../temporal/connection';
import type { Logger } from '../telemetry/log';
import { batchProcessLabels, createMetrics } from '../telemetry/metrics';
import { startProbeServer } from '../telemetry/server';
import { workflowClientInterceptors } from '../telemetry/temporal-tracing';
import { withBatchSpan } from '../telemetry/trace-context';
import type { ApplyBatchResult, BatchHeader } from '../workflows/types';
import { buildBatch, halveSlice, prepareFetched, type SlicePart, type SplitBatch } from './batch';
import { sendToDlq } from './dlq';
import { gatherSlice, Lane } from './lanes';
import { checkPartitionCap, type PartitionCapCheck } from './partitions';
import { reportUndecodableBatch } from './stuck';
import { dataConverter } from '../temporal/codec';
import { packEventJson } from '../temporal/packedBatch';

const HEARTBEAT_EVERY_MS = 3_000;
const LAG_REFRESH_MS = 5_000;
/** Rough size of one event: lets a fetch wait (linger) until about half a batch is there. */
const EVENT_SIZE_ESTIMATE_BYTES = 100;
/**
 * Read-ahead per partition, in batches: the next slice is there when the previous one commits
 * (a lane takes a whole fetch once it holds less, so it may hold up to a fetch more). Two batches'
 * worth kept ~700k fetched messages alive under a backlog with 12 partitions, and the consumer's
 * garbage collection grew with them: 0.53 against 0.43 consumer cores, 36,874 against 38,502 tx/s
 * (4 M backlog, 20,000-event batches; docs/decisions/013-steady-state-and-store-limit.md).
 */
const QUEUE_BATCHES_MAX = 1;
const RETRY_BACKOFF_MAX_MS = 5_000;

/** A batch waiting for its workflow(s). */
interface SliceWait {
  partitions: number[];
  startedAtMs: number;
  /** The workflow it waits for now (a slice halved to fit the payload limit runs several, one after another). */
  workflowId: string | null;
  warnedAtMs: number;
}

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
/** A generous size of one record on the wire (value ~250 B plus key, headers and record overhead). */
const EVENT_RECORD_BYTES_MAX = 512;
const FETCH_BYTES_MAX = 64 << 20;

/**
 * Kafka consumer group → one processBatch workflow per batch → commit after completion. Fetching
 * runs ahead into a bounded queue per partition (a lane); a batch takes slices of one or more lanes,
 * each lane has at most one slice in flight, and `consumer.batchesInFlight` batches run at once (see
 * pump). Offsets are committed only once the workflow (and so the database transaction) has
 * finished, in offset order per partition: a crash at any point replays from the last commit,
 * idempotently.
 */
export async function startConsumer(config: Config, log: Logger): Promise<ConsumerHandle> {
  const metrics = createMetrics('consumer');
  const processLabels = batchProcessLabels(config.kafka.topic, config.kafka.groupId);
  let draining = false;
  /** The topic's partitions against kafka.partitions; unknown until the first lag refresh. */
  let partitionCheck: PartitionCapCheck | undefined;
  const readiness = () => (draining ? false : partitionCheck?.ok === false ? (partitionCheck.message ?? false) : true);
  const probe = await startProbeServer(config.api.host, config.consumer.httpPort, metrics.registry, readiness);
  const kafka = createKafka(config, 'consumer', log);
  const dlq = await connectProducerWithTopics(config, kafka);
  const dlqProducer = dlq.producer;
  await checkTemporalTls(config);
  const connection = await Connection.connect(temporalConnectionOptions(config)).catch((err: unknown) => {
    throw explainTemporalStartError(config, err);
  });
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

  const runWorkflow = async (header: BatchHeader, packed: Uint8Array): Promise<ApplyBatchResult> => {
    const options = { taskQueue: config.temporal.taskQueue, workflowId: header.batchId, args: [header, packed] as [BatchHeader, Uint8Array] };
    for (;;) {
      try {
        const handle = await client.workflow.start('processBatch', options);
        return (await handle.result()) as ApplyBatchResult;
      } catch (err) {
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
        // A run from before a restart still holds this id and may cover other offsets: let it
        // finish, then run ours (its already-applied events are skipped as duplicates).
        log.info({ workflowId: header.batchId }, 'workflow id busy, waiting for the earlier run');
        await client.workflow.getHandle(header.batchId).result().catch(() => undefined);
      }
    }
  };

  const lanes = new Map<number, Lane>();
  const batchRuns = new Set<Promise<void>>();
  /** Batches waiting for their workflow, by lane: what the stall gauge and log report. */
  const waits = new Map<Lane, SliceWait>();
  const roomWaiters = new Map<number, Array<() => void>>();
  const wakeOffers = (partition: number) => {
    for (const wake of roomWaiters.get(partition) ?? []) wake();
    roomWaiters.delete(partition);
  };
  const topic = config.kafka.topic;
  const queueMax = QUEUE_BATCHES_MAX * config.consumer.batchMaxEvents;
  let failures = 0;
  let retryAt = 0;
  /** The one timer that runs `pump` once a failure's backoff is over (armed by `pump` itself). */
  let retryTimer: NodeJS.Timeout | undefined;

  /**
   * The slice as workflow inputs: one, or halves (recursively) while its packed events exceed
   * consumer.batchMaxBytes. Temporal refuses a payload over its limit (2 MiB by default), and a
   * batch's packed size depends on its events: ~30 B each for typical ones, ~350 B with a
   * 140-character description of random non-ASCII text, so batchMaxEvents alone cannot bound it.
   */
  const packSlice = async (parts: ReadonlyArray<SlicePart>, nowMs: number): Promise<Array<{ batch: SplitBatch; packed: Uint8Array | null; messages: KafkaMessage[] }>> => {
    const batch = buildBatch(topic, parts, config.rules, nowMs);
    const packed = batch.eventJson.length > 0 ? await packEventJson(batch.eventJson) : null;
    const messages = parts.flatMap((p) => p.messages);
    if (packed && packed.byteLength > config.consumer.batchMaxBytes && messages.length > 1) {
      log.info({ batchId: batch.header.batchId, events: messages.length, packedBytes: packed.byteLength }, 'batch too large for one workflow payload: halved');
      const [first, second] = halveSlice(parts);
      return [...(await packSlice(first, nowMs)), ...(await packSlice(second, nowMs))];
    }
    return [{ batch, packed, messages }];
  };

  /** Applies one batch: DLQ for malformed events, the workflow(s) for the rest, then the offset commits. */
  const applySlice = async (parts: Array<{ lane: Lane; messages: KafkaMessage[] }>) => {
    const started = Date.now();
    const results: ApplyBatchResult[] = [];
    const wait: SliceWait = { partitions: parts.map((p) => p.lane.partition), startedAtMs: started, workflowId: null, warnedAtMs: started };
    for (const { lane } of parts) waits.set(lane, wait);
    for (const { batch, packed, messages: ms } of await packSlice(parts.map((p) => ({ partition: p.lane.partition, messages: p.messages })), started)) {
      for (const m of batch.malformed) {
        await sendToDlq(dlq, config.kafka.dlqTopic, topic, m.partition, m.rejected);
        for (const r of m.rejected) metrics.dlqEvents.inc({ field: r.field });
      }
      wait.workflowId = batch.header.batchId;
      if (packed) results.push(await withBatchSpan(batch.header, ms, () => runWorkflow(batch.header, packed)));
    }
    for (const r of results) {
      if (r.parked > 0) log.warn({ workflowId: r.batchId, parked: r.parked, isolationSteps: r.isolationSteps }, 'batch applied with events parked (ledgerflow parked list)');
    }
    const messages = parts.flatMap((p) => p.messages);
    // A partition assigned elsewhere meanwhile is its new owner's to commit; it applies these
    // offsets again (a no-op) rather than have this member move its committed offset.
    const owned = parts.filter((p) => !p.lane.orphaned);
    const offsets = owned.map((p) => ({ topic, partition: p.lane.partition, offset: (BigInt((p.messages[p.messages.length - 1] as KafkaMessage).offset) + 1n).toString() }));
    if (offsets.length > 0) await consumer.commitOffsets(offsets);
    const committedAtMs = Date.now();
    completed += 1;
    handled += owned.reduce((acc, p) => acc + p.messages.length, 0);
    metrics.batchSize.observe(messages.length);
    metrics.batchDuration.observe(processLabels, (committedAtMs - started) / 1000);
    for (const { lane, messages: ms } of owned) {
      metrics.batches.inc({ partition: lane.partition });
      metrics.eventsConsumed.inc({ topic, partition: lane.partition }, ms.length);
      for (const m of ms) metrics.produceToCommit.observe(Math.max(0, committedAtMs - Number(m.timestamp)) / 1000);
    }
    log.debug({ partitions: parts.map((p) => p.lane.partition), events: messages.length, workflows: results }, 'batch committed');
  };

  /** Runs one batch; on failure its lanes drop what they hold and fetch again from the batch's offsets. */
  const runSlice = async (parts: Array<{ lane: Lane; messages: KafkaMessage[] }>) => {
    try {
      await applySlice(parts);
      for (const { lane } of parts) lane.committed();
      failures = 0;
    } catch (err) {
      // Nothing after the batch was committed. A commit refused for group membership is seen by
      // kafkajs's own heartbeat too, which rejoins the group.
      failures += 1;
      for (const { lane } of parts) metrics.batchRetries.inc({ partition: lane.partition });
      retryAt = Date.now() + Math.min(RETRY_BACKOFF_MAX_MS, 250 * 2 ** Math.min(failures, 5));
      for (const { lane } of parts) {
        const seekTo = lane.failed();
        if (!lane.orphaned && !draining) consumer.seek({ topic, partition: lane.partition, offset: seekTo.toString() });
        log.warn({ err: (err as Error).message, partition: lane.partition, seekTo: seekTo.toString(), failures }, 'batch failed; fetching it again');
      }
      pump();
    } finally {
      for (const { lane } of parts) {
        waits.delete(lane);
        if (!lane.orphaned) metrics.consumerBatchAge.set({ topic, partition: lane.partition }, 0);
        wakeOffers(lane.partition);
      }
    }
  };

  /**
   * Starts batches while there is room in flight and lanes with messages: the next one gathers what
   * waits. Up to `batchesInFlight` at once, and as many again while full batches wait (a backlog):
   * few, larger batches under light load (latency), more of them under a backlog (throughput).
   */
  function pump(): void {
    const base = config.consumer.batchesInFlight;
    const partsMax = Math.max(1, Math.ceil(lanes.size / base));
    // In a failure's backoff, make sure a timer runs this again when it ends. Every pump skipped
    // here depends on that timer (fetches then wait for room that only a pump makes), and a timer
    // may fire a millisecond before Date.now() reaches its deadline: it then arms itself again.
    const backoffMs = retryAt - Date.now();
    if (backoffMs > 0) {
      retryTimer ??= setTimeout(() => {
        retryTimer = undefined;
        pump();
      }, backoffMs + 1).unref();
      return;
    }
    while (!draining && batchRuns.size < 2 * base) {
      const parts = gatherSlice(lanes.values(), config.consumer.batchMaxEvents, partsMax, batchRuns.size >= base);
      if (parts.length === 0) return;
      for (const { lane } of parts) wakeOffers(lane.partition);
      const run: Promise<void> = runSlice(parts)
        .catch((err: Error) => log.error({ err: err.message }, 'batch run failed'))
        .finally(() => {
          batchRuns.delete(run);
          pump();
        });
      batchRuns.add(run);
    }
  }

  const eachBatch = async ({ batch, heartbeat, isRunning, isStale, resolveOffset }: EachBatchPayload) => {
    const { partition } = batch;
    let lane = lanes.get(partition);
    if (!lane) lanes.set(partition, (lane = new Lane(partition)));
    // Bounded read-ahead: wait (heartbeating) while the lane holds enough. A rebalance ends the
    // wait: a failed heartbeat, or this lane no longer being the partition's (assigned elsewhere
    // while the fetch waited, when the heartbeat of the new generation succeeds).
    while (lane.queued >= queueMax && lanes.get(partition) === lane && !lane.orphaned && isRunning() && !isStale() && !draining) {
      // Room is made by a pump taking a slice; a full lane with nothing in flight must not wait on
      // a pump that nothing else would start.
      pump();
      if (lane.queued < queueMax) break;
      await new Promise<void>((resolve) => {
        const waiters = roomWaiters.get(partition) ?? [];
        const wake = () => {
          clearTimeout(timer);
          resolve();
        };
        // A wait that ends by its timer takes its waiter away: a long wait leaves none behind.
        const timer = setTimeout(() => {
          const i = waiters.indexOf(wake);
          if (i >= 0) waiters.splice(i, 1);
          resolve();
        }, HEARTBEAT_EVERY_MS);
        waiters.push(wake);
        roomWaiters.set(partition, waiters);
      });
      try {
        await heartbeat();
      } catch {
        return; // the group is rebalancing: this batch is fetched again after the rejoin
      }
    }
    if (!isRunning() || isStale() || draining || lanes.get(partition) !== lane || batch.messages.length === 0) return;
    const fetchedOffset = (batch as unknown as { fetchedOffset?: string }).fetchedOffset;
    const outcome = lane.offer(batch.messages, fetchedOffset === undefined ? undefined : BigInt(fetchedOffset));
    // The lane took the fetch's last `accepted` messages (a redelivered prefix it holds is dropped).
    if (outcome.kind === 'queued' && outcome.accepted > 0) prepareFetched(batch.messages.slice(-outcome.accepted), partition);
    if (outcome.kind === 'rewind') {
      log.warn({ partition, fetchedOffset, seekTo: outcome.seekTo.toString() }, 'fetch started past the offsets this lane holds; fetching again from the first missing one');
      consumer.seek({ topic, partition, offset: outcome.seekTo.toString() });
      return;
    }
    // Advances kafkajs's fetch position; the commit follows once the slice is applied.
    resolveOffset(batch.messages[batch.messages.length - 1]!.offset);
    pump();
  };

  // After a rejoin kafkajs fetches from the committed offsets: lanes drop their queues, and lanes of
  // partitions now assigned elsewhere finish their slice in flight without committing it.
  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
    const assigned = new Set(payload.memberAssignment[topic] ?? []);
    for (const [partition, lane] of lanes) {
      if (assigned.has(partition)) lane.rejoined();
      else {
        lane.orphan();
        lanes.delete(partition);
        metrics.consumerBatchAge.remove({ topic, partition });
      }
      wakeOffers(partition);
    }
  });

  // Lag from the broker's view (high watermark − group commit), on a timer: it keeps moving even
  // when this consumer is stuck, so a stall with growing lag is visible.
  const lagAdmin = kafka.admin();
  await lagAdmin.connect();
  const observePartitions = (count: number) => {
    const check = checkPartitionCap(topic, count, config.kafka.partitions);
    metrics.topicPartitions.set({ topic }, count);
    metrics.partitionCap.set({ topic }, config.kafka.partitions);
    const facts = { topic, topicPartitions: count, capPartitions: config.kafka.partitions };
    if (check.message !== partitionCheck?.message || partitionCheck === undefined) {
      if (!check.ok) log.error(facts, `${check.message}; readiness refused`);
      else if (check.message) log.warn(facts, check.message);
      else log.info(facts, 'topic partitions match the consumer replica cap');
    }
    partitionCheck = check;
  };
  const refreshLag = async () => {
    const lags = await consumerGroupLag(lagAdmin, config.kafka.topic, config.kafka.groupId);
    observePartitions(lags.length);
    for (const { partition, lag } of lags) metrics.consumerLag.set({ topic, partition }, Number(lag));
  };
  await refreshLag().catch((err: Error) => log.warn({ err: err.message }, 'lag refresh failed'));
  const lagTimer = setInterval(() => {
    refreshLag().catch((err: Error) => log.warn({ err: err.message }, 'lag refresh failed'));
    reportWaits(Date.now());
  }, LAG_REFRESH_MS);

  /**
   * The consumer waits for a batch's workflow without a deadline: the workflow is durable, and
   * giving up would only replay the same batch (docs/decisions/020-poison-isolation.md). It never
   * waits silently: every partition's wait is a gauge, and a wait past consumer.stallWarnMs is
   * logged with its workflow id, again every such interval. Readiness stays as it is: a restart
   * cannot unstick a workflow, and the rebalance would pause every other partition too.
   */
  const reportWaits = (nowMs: number) => {
    for (const [partition, lane] of lanes) {
      const wait = waits.get(lane);
      metrics.consumerBatchAge.set({ topic, partition }, wait ? (nowMs - wait.startedAtMs) / 1000 : 0);
    }
    for (const wait of new Set(waits.values())) {
      if (nowMs - wait.warnedAtMs < config.consumer.stallWarnMs) continue;
      wait.warnedAtMs = nowMs;
      log.warn({ workflowId: wait.workflowId, partitions: wait.partitions, waitingMs: nowMs - wait.startedAtMs }, 'batch still waiting for its workflow: its partitions are stalled behind it (check the worker, Temporal and the store)');
    }
  };

  // kafkajs restarts itself after most errors; when it will not, stop looking healthy so the
  // process exits (CLI) or the pod is restarted, instead of idling with partitions assigned.
  let fail!: (err: Error) => void;
  const failed = new Promise<never>((_resolve, reject) => (fail = reject));
  failed.catch(() => undefined);
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    if (payload.restart) return;
    draining = true;
    probe.setUnhealthy(payload.error.message);
    const undecodable = undecodableCause(payload.error);
    if (!undecodable) {
      log.fatal({ err: payload.error.message, groupId: payload.groupId }, 'consumer crashed and will not restart');
      fail(payload.error);
      return;
    }
    // A batch no codec here can read: say where, then exit non-zero (docs/decisions/016-kafka-compression-codecs.md).
    const positions = new Map<number, bigint>();
    for (const [partition, lane] of lanes) if (lane.fetchFrom !== null) positions.set(partition, lane.fetchFrom);
    const { maxBytesPerPartition } = fetchSizes(config.consumer.batchMaxEvents, config.consumer.partitionsConcurrently);
    void reportUndecodableBatch({ kafka, config, metrics, probe, log, positions, maxBytes: maxBytesPerPartition }, undecodable).then(fail);
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
      // Readiness goes false first; fetching pauses, and the slice in flight of each lane finishes
      // and commits. Queued messages are not started: they are fetched again by the next owner.
      draining = true;
      probe.setReady(false);
      clearInterval(lagTimer);
      consumer.pause([{ topic }]);
      for (const partition of [...roomWaiters.keys()]) wakeOffers(partition);
      const deadline = Date.now() + config.shutdown.graceMs;
      const until = (ms: number) => new Promise<false>((resolve) => setTimeout(() => resolve(false), Math.max(ms, 0)).unref());
      const lanesDone = await Promise.race([Promise.allSettled([...batchRuns]).then(() => true), until(deadline - Date.now())]);
      if (!lanesDone) {
        // Uncommitted slices are simply redelivered to the next owner; applying them again is a no-op.
        log.warn({ graceMs: config.shutdown.graceMs, inFlight: batchRuns.size }, 'grace period over with batches in flight; leaving them uncommitted');
      }
      // Leaving the group: past the grace it gets one second, then the process exits anyway (the
      // session timeout hands the partitions over).
      const stopped = await Promise.race([consumer.stop().then(() => true), until(Math.max(1_000, deadline - Date.now()))]);
      const closed = Promise.allSettled([consumer.disconnect(), dlqProducer.disconnect(), lagAdmin.disconnect()]);
      await Promise.race([closed, until(Math.max(1_000, deadline - Date.now()))]);
      // Closing Temporal under a still-waiting batch would crash its pending call; the process exits anyway.
      if (lanesDone && stopped) await connection.close();
      await probe.close();
      log.info({ completedBatches: completed, handledEvents: handled }, 'consumer stopped');
    },
  };
}
