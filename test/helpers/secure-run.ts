import { envVarOf, loadConfig, type Config, type ConfigOverrides } from '../../src/config';
import { grantPipelineAcls, revokePipelineAcls, type PipelineNames } from '../../src/kafka/acls';
import { createKafka, ensureTopics } from '../../src/kafka/client';
import { stackUp } from '../../src/stack';
import { stackContext } from '../../src/stack/lifecycle';
import { scratchOverrides } from '../../src/stack/scratch';
import { kafkaUserName, secureClientOverrides, type SecureRole } from '../../src/stack/secure-clients';
import type { StackContext } from '../../src/stack/service';
import { createPool } from '../../src/store/pool';
import { migrate } from '../../src/store/migrate';
import { terminateRunningWorkflows } from '../../src/temporal/cleanup';

/**
 * A scratch run on the secure stack: its own topic, DLQ, group, task queue and database, created
 * by the admin principal (topics, ACLs for the run's names) and the migration user (schema), and
 * one config per process role — each with its own Kafka user, TLS everywhere, password files.
 */
export interface SecureRun {
  runId: string;
  ctx: StackContext;
  /** The run's names and quiet test settings, without any role's credentials. */
  overrides: ConfigOverrides;
  configFor(role: SecureRole, extra?: ConfigOverrides): Config;
  /** Environment of a child `ledgerflow` process of `role` on this run (settings only; passwords stay in files). */
  envFor(role: SecureRole, extra?: ConfigOverrides): NodeJS.ProcessEnv;
  dispose(): Promise<void>;
}

const QUIET: ConfigOverrides = {
  'consumer.httpPort': 0, 'worker.httpPort': 0, 'worker.sdkMetricsPort': 0, 'api.port': 0, 'producer.httpPort': 0,
  'log.level': 'warn', 'fraud.reviewEnabled': false,
};

export async function createSecureRun(name: string): Promise<SecureRun> {
  const base = loadConfig();
  const ctx = stackContext(base, () => undefined, 'secure');
  const scratch = scratchOverrides(name, { topicPrefix: 'sec-', dbPrefix: 'ledgerflow_sec_' });
  const overrides = { ...QUIET, ...scratch.overrides };
  const settings = (role: SecureRole, extra: ConfigOverrides) => ({ ...secureClientOverrides(ctx, role), ...overrides, ...extra });
  const configFor = (role: SecureRole, extra: ConfigOverrides = {}) => loadConfig(settings(role, extra));
  // The stack creates the run's database and grants its accounts on it (as for the plain stack).
  await stackUp(loadConfig({ 'db.name': overrides['db.name'] }), { profile: 'secure', log: () => undefined });
  const names: PipelineNames = { topic: String(overrides['kafka.topic']), dlqTopic: String(overrides['kafka.dlqTopic']), groupId: String(overrides['kafka.groupId']) };
  const admin = createKafka(configFor('admin'), 'secure-run').admin();
  await admin.connect();
  try {
    await ensureTopics(configFor('admin'), admin);
    await grantPipelineAcls(admin, names, kafkaUserName);
  } finally {
    await admin.disconnect();
  }
  await migrate(configFor('migrate'));
  return {
    runId: scratch.runId,
    ctx,
    overrides,
    configFor,
    envFor: (role, extra = {}) => {
      const env: NodeJS.ProcessEnv = { ...process.env };
      for (const [key, value] of Object.entries(settings(role, extra))) env[envVarOf(key) as string] = String(value);
      return env;
    },
    dispose: async () => {
      await terminateRunningWorkflows(configFor('admin'), `secure run ${scratch.runId} disposed`);
      const pool = createPool(configFor('migrate'), 'migrate', 1);
      await pool.query('DROP DATABASE IF EXISTS ??', [overrides['db.name']]).finally(() => pool.end());
      const cleanup = createKafka(configFor('admin'), 'secure-run-cleanup').admin();
      await cleanup.connect();
      try {
        await cleanup.deleteTopics({ topics: [names.topic, names.dlqTopic] });
        await revokePipelineAcls(cleanup, names, kafkaUserName);
      } finally {
        await cleanup.disconnect();
      }
    },
  };
}
