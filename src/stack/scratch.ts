import { randomBytes } from 'node:crypto';
import { envVarOf, loadConfig, type Config, type ConfigOverrides } from '../config';
import { createKafka } from '../kafka/client';
import { createPool } from '../store/pool';
import { migrate } from '../store/migrate';
import { terminateRunningWorkflows } from '../temporal/cleanup';
import { stackUp, type StackUpOptions } from './index';

/**
 * A scratch run on the local stack: its own topic, DLQ, consumer group, task queue and database,
 * so tests, chaos runs and benchmarks never see each other's data (or the demo's).
 */
export interface ScratchRun {
  runId: string;
  config: Config;
  overrides: ConfigOverrides;
  /** Environment that makes a child `ledgerflow` process use this run's topic, queue and database. */
  childEnv(extra?: ConfigOverrides): NodeJS.ProcessEnv;
  /** Terminates this run's running workflows (with Temporal in the run), drops its database and topics. */
  dispose(): Promise<void>;
}

export interface ScratchNames {
  /** Before the run id in the topic, group and task queue names. */
  topicPrefix?: string;
  /** Before the run id (dashes as underscores) in the database name. */
  dbPrefix?: string;
}

export function scratchOverrides(name: string, names: ScratchNames = {}): { runId: string; overrides: ConfigOverrides } {
  const runId = `${name}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  const topic = `${names.topicPrefix ?? 'it-'}${runId}`;
  return {
    runId,
    overrides: {
      'kafka.topic': topic,
      'kafka.dlqTopic': `${topic}.dlq`,
      'kafka.groupId': topic,
      'temporal.taskQueue': topic,
      'db.name': `${names.dbPrefix ?? 'ledgerflow_test_'}${runId.replace(/-/g, '_')}`.slice(0, 64),
    },
  };
}

/** Starts what is not running (only `services`), provisions the run's database and migrates it. */
export async function createScratchRun(
  name: string,
  extra: ConfigOverrides = {},
  options: ScratchNames & {
    env?: NodeJS.ProcessEnv;
    services?: StackUpOptions['services'];
    /** Apply the real migrations (off for a database that gets another schema). */
    migrate?: boolean;
  } = {},
): Promise<ScratchRun> {
  const baseEnv = options.env ?? process.env;
  const scratch = scratchOverrides(name, options);
  const overrides: ConfigOverrides = { ...scratch.overrides, ...extra };
  const config = loadConfig(overrides, baseEnv);
  // Only db.name differs from the base settings, so Prometheus keeps scraping the default ports.
  await stackUp(loadConfig({ 'db.name': config.db.name }, baseEnv), { log: () => undefined, ...(options.services ? { services: options.services } : {}) });
  if (options.migrate !== false) await migrate(config);
  return {
    runId: scratch.runId,
    config,
    overrides,
    childEnv: (more = {}) => {
      const env: NodeJS.ProcessEnv = { ...baseEnv };
      for (const [key, value] of Object.entries({ ...overrides, ...more })) env[envVarOf(key) as string] = String(value);
      return env;
    },
    dispose: async () => {
      if (!options.services || options.services.includes('temporal')) await terminateRunningWorkflows(config, `scratch run ${scratch.runId} disposed`);
      const pool = createPool(config, 'migrate', 1);
      await pool.query('DROP DATABASE IF EXISTS ??', [config.db.name]).finally(() => pool.end());
      const admin = createKafka(config, 'scratch-cleanup').admin();
      await admin.connect();
      try {
        // A run that never produced has no topics: delete only what exists.
        const existing = new Set(await admin.listTopics());
        const topics = [config.kafka.topic, config.kafka.dlqTopic].filter((t) => existing.has(t));
        if (topics.length > 0) await admin.deleteTopics({ topics });
      } finally {
        await admin.disconnect();
      }
    },
  };
}
