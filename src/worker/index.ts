import { Context } from '@temporalio/activity';
import { DefaultLogger, NativeConnection, Runtime, Worker, makeTelemetryFilterString } from '@temporalio/worker';
import type { Config } from '../config';
import { LedgerflowError } from '../domain/errors';
import { createActivities } from '../activities';
import { createReviewActivities } from '../activities/review';
import { createPool, observePool } from '../store/pool';
import { dialectWrites } from '../store/dialect';
import type { Logger } from '../telemetry/log';
import { createMetrics } from '../telemetry/metrics';
import { startProbeServer } from '../telemetry/server';
import { checkTemporalTls, explainTemporalStartError, temporalConnectionOptions } from '../temporal/connection';
import { checkDatabase } from '../store/security';
import { temporalMetricsOptions } from '../telemetry/temporal-metrics';
import { workerTracingOptions } from '../telemetry/temporal-tracing';
import { workflowCode } from './bundle';
import { startFraudRuntime } from './fraud';
import { dataConverter } from '../temporal/codec';
import type { ApplyBatchInput, ApplyBatchResult, ApplyPackedInput } from '../workflows/types';
import { startBacklogPoller } from './backlog';

export interface WorkerHandle {
  stop(): Promise<void>;
}

let runtimeInstalled = false;

/** Well inside processBatch's activity heartbeatTimeout (10 s). */
const HEARTBEAT_EVERY_MS = 2_000;

/** Once per process: the Temporal core runtime (its logging, and its metrics endpoint when configured). */
function installRuntime(config: Config): void {
  const sdkMetrics = temporalMetricsOptions(config);
  try {
    // Core SDK logs only warnings and worse: the worker's own pino lines carry the rest.
    Runtime.install({
      logger: new DefaultLogger('WARN'),
      // The CLI owns SIGTERM/SIGINT (readiness off, then drain); the SDK must not race it.
      shutdownSignals: [],
      telemetryOptions: {
        logging: { filter: makeTelemetryFilterString({ core: 'WARN' }) },
        // The SDK's own metrics (task schedule-to-start and execution latencies, slots, pollers) on
        // a second /metrics in Prometheus conventions, or over OTLP when metrics go there.
        ...(sdkMetrics ? { metrics: sdkMetrics } : {}),
      },
    });
  } catch (err) {
    // The one failure here that an operator fixes: the SDK metrics port is taken.
    if (sdkMetrics && 'prometheus' in sdkMetrics && /address already in use/i.test((err as Error).message)) {
      throw new LedgerflowError(
        'LF_CONFIG',
        `worker.sdkMetricsPort (LF_WORKER_SDK_METRICS_PORT): ${config.api.host}:${config.worker.sdkMetricsPort} is already in use`,
        'worker.sdkMetricsPort',
      );
    }
    throw err;
  }
  runtimeInstalled = true;
}

/** Temporal worker: runs processBatch workflows and their apply activity (one DB transaction). */
export async function startWorker(config: Config, log: Logger): Promise<WorkerHandle> {
  if (!runtimeInstalled) installRuntime(config);
  const metrics = createMetrics('worker');
  // Present from the start at 0, so rate() and alerts see a series before the first failure.
  metrics.activityFailures.inc({ activity: 'applyBatch', code: 'ER_LOCK_DEADLOCK' }, 0);
  metrics.applyErrors.inc({ class: 'transient', code: 'ER_LOCK_DEADLOCK' }, 0);
  metrics.parkedEvents.inc({ code: 'none' }, 0);
  metrics.storeRefusals.inc({ code: 'none' }, 0);
  for (const outcome of ['arrived_later', 'superseded']) metrics.idConflicts.inc({ outcome }, 0);
  metrics.transfersReturned.inc(0);
  let draining = false;
  const probe = await startProbeServer(config.api.host, config.worker.httpPort, metrics.registry, () => !draining);
  const pool = createPool(config, 'app');
  await checkDatabase(pool, config, 'app').catch(async (err: unknown) => {
    await Promise.all([pool.end(), probe.close()]).catch(() => undefined);
    throw err;
  });
  const unobservePool = observePool(pool, metrics, config.db.dialect);
  const fraud = await startFraudRuntime(config, pool, log, metrics);
  const activities = createActivities({
    pool,
    overdraftLimitMinor: BigInt(config.rules.overdraftLimitMinor),
    ...dialectWrites(config.db.dialect),
    ...(fraud.deps ? { fraud: fraud.deps } : {}),
    topic: config.kafka.topic,
    unknownAttemptsMax: config.worker.unknownFailureAttempts,
    attempt: () => Context.current().info.attempt,
    observe: {
      failure: (f) => metrics.applyErrors.inc({ class: f.class, code: f.code }),
      parked: (f) => metrics.parkedEvents.inc({ code: f.code }),
      systemic: (f) => metrics.storeRefusals.inc({ code: f.code }),
    },
    log,
  });
  const timed = async (apply: () => Promise<ApplyBatchResult>): Promise<ApplyBatchResult> => {
    const end = metrics.applyDuration.startTimer();
    // Heartbeats tell Temporal this worker is alive: a killed worker's attempt is retried elsewhere
    // after the workflow's heartbeatTimeout instead of its whole startToCloseTimeout.
    // A local activity (processBatch since its apply-as-local-activity patch) cannot heartbeat:
    // its liveness is the workflow task's.
    const context = Context.current();
    const beat = context.info.isLocal ? undefined : setInterval(() => context.heartbeat(), HEARTBEAT_EVERY_MS);
    let result;
    try {
      result = await apply();
    } catch (err) {
      // An ApplicationFailure (LF_STORE_SYSTEMIC, LF_INVALID_BATCH) is counted by its type.
      const e = err as { code?: string; type?: string; name?: string };
      metrics.activityFailures.inc({ activity: 'applyBatch', code: e.code ?? e.type ?? e.name ?? 'Error' });
      throw err;
    } finally {
      clearInterval(beat);
    }
    end();
    metrics.transactionsStored.inc({ status: 'applied', reason: '' }, result.applied);
    for (const [reason, n] of Object.entries(result.rejectedByReason)) metrics.transactionsStored.inc({ status: 'rejected', reason }, n);
    metrics.duplicatesSkipped.inc(result.duplicates);
    metrics.fraudFlagged.inc(result.flagged);
    metrics.fraudReviews.inc(result.reviews);
    if (result.returned > 0) metrics.transfersReturned.inc(result.returned);
    // Results recorded by a worker from before decision 021 have no conflict counts.
    if (result.conflicts > 0) {
      metrics.idConflicts.inc({ outcome: 'superseded' }, result.superseded);
      metrics.idConflicts.inc({ outcome: 'arrived_later' }, result.conflicts - result.superseded);
      log.warn({ batchId: result.batchId, conflicts: result.conflicts, superseded: result.superseded }, 'transaction ids reused with other content (ledgerflow conflicts list)');
    }
    return result;
  };
  const timedActivities = {
    applyBatch: (input: ApplyBatchInput | ApplyPackedInput, packed?: Uint8Array) =>
      timed(() => (packed === undefined ? activities.applyBatch(input as ApplyBatchInput) : activities.applyBatch(input as ApplyPackedInput, packed))),
    ...createReviewActivities(pool),
  };
  await checkTemporalTls(config);
  const connection = await NativeConnection.connect(temporalConnectionOptions(config)).catch((err: unknown) => {
    throw explainTemporalStartError(config, err);
  });
  const tracing = workerTracingOptions();
  const worker = await Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    ...(await workflowCode(config, tracing.interceptors?.workflowModules ?? [], log)),
    activities: timedActivities,
    dataConverter: dataConverter(),
    maxConcurrentActivityTaskExecutions: config.worker.maxConcurrentActivities,
    // processBatch applies as a local activity: the same bound on concurrent batch transactions.
    maxConcurrentLocalActivityExecutions: config.worker.maxConcurrentActivities,
    maxConcurrentWorkflowTaskExecutions: config.worker.maxConcurrentWorkflowTasks,
    shutdownGraceTime: config.shutdown.graceMs,
    ...tracing,
    // The tracing workflow interceptors are already inside the bundle (see workflowCode).
    ...(tracing.interceptors ? { interceptors: { ...tracing.interceptors, workflowModules: [] } } : {}),
  });
  const running = worker.run();
  const backlog = startBacklogPoller({
    describe: (request) => connection.workflowService.describeTaskQueue(request),
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    intervalMs: config.worker.backlogPollMs,
    gauge: metrics.taskQueueBacklog,
    log,
  });
  probe.setReady(true);
  log.info({ taskQueue: config.temporal.taskQueue }, 'worker started');
  return {
    stop: async () => {
      draining = true;
      probe.setReady(false);
      backlog.stop();
      // shutdown() stops polling and lets in-flight activities finish within shutdownGraceTime.
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running.catch((err: Error) => log.error({ err }, 'worker run failed'));
      await Promise.allSettled([connection.close(), fraud.stop(), pool.end()]);
      unobservePool();
      await probe.close();
      log.info('worker stopped');
    },
  };
}
