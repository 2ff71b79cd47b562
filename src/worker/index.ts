import { DefaultLogger, NativeConnection, Runtime, Worker, makeTelemetryFilterString } from '@temporalio/worker';
import type { Config } from '../config';
import { createActivities } from '../activities';
import { createReviewActivities } from '../activities/review';
import { createPool } from '../store/pool';
import type { Logger } from '../telemetry/log';
import { createMetrics } from '../telemetry/metrics';
import { startProbeServer } from '../telemetry/server';
import { temporalConnectionOptions } from '../temporal/connection';
import { startFraudRuntime } from './fraud';

export interface WorkerHandle {
  stop(): Promise<void>;
}

let runtimeInstalled = false;

/** Temporal worker: runs processBatch workflows and the applyBatch activity (one DB transaction). */
export async function startWorker(config: Config, log: Logger): Promise<WorkerHandle> {
  if (!runtimeInstalled) {
    // Core SDK logs only warnings and worse: the worker's own pino lines carry the rest.
    Runtime.install({
      logger: new DefaultLogger('WARN'),
      // The CLI owns SIGTERM/SIGINT (readiness off, then drain); the SDK must not race it.
      shutdownSignals: [],
      telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'WARN' }) } },
    });
    runtimeInstalled = true;
  }
  const metrics = createMetrics('worker');
  // Present from the start at 0, so rate() and alerts see a series before the first failure.
  metrics.activityFailures.inc({ activity: 'applyBatch', code: 'ER_LOCK_DEADLOCK' }, 0);
  let draining = false;
  const probe = await startProbeServer(config.api.host, config.worker.httpPort, metrics.registry, () => !draining);
  const pool = createPool(config, 'app');
  const fraud = await startFraudRuntime(config, pool, log);
  const activities = createActivities({ pool, overdraftLimitMinor: BigInt(config.rules.overdraftLimitMinor), ...(fraud.deps ? { fraud: fraud.deps } : {}) });
  const timedActivities = {
    applyBatch: async (input: Parameters<typeof activities.applyBatch>[0]) => {
      const end = metrics.applyDuration.startTimer();
      let result;
      try {
        result = await activities.applyBatch(input);
      } catch (err) {
        const e = err as { code?: string; name?: string };
        metrics.activityFailures.inc({ activity: 'applyBatch', code: e.code ?? e.name ?? 'Error' });
        throw err;
      }
      end();
      metrics.transactionsStored.inc({ status: 'applied', reason: '' }, result.applied);
      for (const [reason, n] of Object.entries(result.rejectedByReason)) metrics.transactionsStored.inc({ status: 'rejected', reason }, n);
      metrics.duplicatesSkipped.inc(result.duplicates);
      return result;
    },
    ...createReviewActivities(pool),
  };
  const connection = await NativeConnection.connect(temporalConnectionOptions(config));
  const worker = await Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    workflowsPath: require.resolve('../workflows'),
    activities: timedActivities,
    maxConcurrentActivityTaskExecutions: config.worker.maxConcurrentActivities,
    maxConcurrentWorkflowTaskExecutions: config.worker.maxConcurrentWorkflowTasks,
    shutdownGraceTime: config.shutdown.graceMs,
  });
  const running = worker.run();
  probe.setReady(true);
  log.info({ taskQueue: config.temporal.taskQueue }, 'worker started');
  return {
    stop: async () => {
      draining = true;
      probe.setReady(false);
      // shutdown() stops polling and lets in-flight activities finish within shutdownGraceTime.
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running.catch((err: Error) => log.error({ err }, 'worker run failed'));
      await Promise.allSettled([connection.close(), fraud.stop(), pool.end()]);
      await probe.close();
      log.info('worker stopped');
    },
  };
}
