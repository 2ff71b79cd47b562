import { randomBytes } from 'node:crypto';
import { loadConfig, type Config, type ConfigOverrides } from '../../src/config';
import { startConsumer, type ConsumerHandle } from '../../src/consumer';
import { stackUp } from '../../src/stack';
import { migrate } from '../../src/store/migrate';
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
}

export async function createTestPipeline(name: string, overrides: ConfigOverrides = {}): Promise<TestPipeline> {
  const runId = `${name}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  const config = loadConfig({
    'kafka.topic': `it-${runId}`,
    'kafka.dlqTopic': `it-${runId}.dlq`,
    'kafka.groupId': `it-${runId}`,
    'temporal.taskQueue': `it-${runId}`,
    'db.name': `ledgerflow_test_${runId.replace(/-/g, '_')}`.slice(0, 64),
    'consumer.httpPort': 0,
    'worker.httpPort': 0,
    'api.port': 0,
    'log.level': 'warn',
    ...overrides,
  });
  // Idempotent: starts what is not running and provisions this run's database and grants.
  await stackUp(config, { log: () => undefined });
  await migrate(config);
  const log = createLogger(config.log.level, name);
  return {
    config,
    log,
    runId,
    startWorker: () => startWorker(config, log),
    startConsumer: () => startConsumer(config, log),
  };
}
