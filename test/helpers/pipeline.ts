import type { Config, ConfigOverrides } from '../../src/config';
import { startConsumer, type ConsumerHandle } from '../../src/consumer';
import { createScratchRun } from '../../src/stack/scratch';
import { createLogger, type Logger } from '../../src/telemetry/log';
import { startWorker, type WorkerHandle } from '../../src/worker';

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
