import { randomBytes } from 'node:crypto';
import { envVarOf, loadConfig, type Config, type ConfigOverrides } from '../../src/config';
import { startConsumer, type ConsumerHandle } from '../../src/consumer';
import { createKafka } from '../../src/kafka/client';
import { createPool } from '../../src/store/pool';
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
  /** Environment that makes a child `ledgerflow` process use this run's topic, queue and database. */
  childEnv(extra?: ConfigOverrides): NodeJS.ProcessEnv;
  /** Drops this run's database and topics. */
  dispose(): Promise<void>;
}

export async function createTestPipeline(name: string, extra: ConfigOverrides = {}): Promise<TestPipeline> {
  const runId = `${name}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  const overrides: ConfigOverrides = {
    'kafka.topic': `it-${runId}`,
    'kafka.dlqTopic': `it-${runId}.dlq`,
    'kafka.groupId': `it-${runId}`,
    'temporal.taskQueue': `it-${runId}`,
    'db.name': `ledgerflow_test_${runId.replace(/-/g, '_')}`.slice(0, 64),
    'consumer.httpPort': 0,
    'worker.httpPort': 0,
    'api.port': 0,
    'log.level': 'warn',
    // Review workflows wait for a human; only the tests about reviews start them.
    'fraud.reviewEnabled': false,
    ...extra,
  };
  const config = loadConfig(overrides);
  // Idempotent: starts what is not running and provisions this run's database and grants. Only
  // db.name differs from the defaults, so Prometheus keeps scraping the default process ports.
  await stackUp(loadConfig({ 'db.name': config.db.name }), { log: () => undefined });
  await migrate(config);
  const log = createLogger(config.log.level, name);
  return {
    config,
    log,
    runId,
    startWorker: () => startWorker(config, log),
    startConsumer: () => startConsumer(config, log),
    childEnv: (more = {}) => {
      const env: NodeJS.ProcessEnv = { ...process.env };
      for (const [key, value] of Object.entries({ ...overrides, ...more })) env[envVarOf(key) as string] = String(value);
      return env;
    },
    dispose: async () => {
      const pool = createPool(config, 'migrate', 1);
      await pool.query('DROP DATABASE IF EXISTS ??', [config.db.name]).finally(() => pool.end());
      const admin = createKafka(config, 'test-cleanup').admin();
      await admin.connect();
      await admin.deleteTopics({ topics: [config.kafka.topic, config.kafka.dlqTopic] }).finally(() => admin.disconnect());
    },
  };
}
