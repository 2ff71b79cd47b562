import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { AssignerProtocol } from 'kafkajs';
import { Fleet, HTTP_PORT_SETTING } from '../../src/chaos/fleet';
import { createKafka } from '../../src/kafka/client';
import { startProducer } from '../../src/producer';
import { stackLayout } from '../../src/stack';
import { verify } from '../../src/verify';
import { createTestPipeline, type TestPipeline } from '../helpers/pipeline';

/**
 * `kubectl scale` done locally on real processes: consumers 1 → 3 → 1 and workers 1 → 2 → 1 under
 * load. Scale-in is SIGTERM (graceful drain); the group rebalances each time. Nothing is lost or
 * duplicated and every partition is owned and fully consumed.
 */
const PARTITIONS = 6;
let env: TestPipeline;
let fleet: Fleet | undefined;
let stopProducer: (() => Promise<void>) | undefined;

before(async () => {
  env = await createTestPipeline('scale', { 'kafka.partitions': PARTITIONS, 'consumer.sessionTimeoutMs': 10_000, 'shutdown.graceMs': 15_000 });
});

after(async () => {
  await stopProducer?.();
  await fleet?.stopAll();
  await env?.dispose();
});

/** Partitions each member of the group owns now (empty while the group is rebalancing). */
async function assignments(): Promise<number[][]> {
  const admin = createKafka(env.config, 'scale-test').admin();
  await admin.connect();
  try {
    const { groups } = await admin.describeGroups([env.config.kafka.groupId]);
    const group = groups[0];
    if (!group || group.state !== 'Stable') return [];
    return group.members.map((m) => {
      const decoded = AssignerProtocol.MemberAssignment.decode(m.memberAssignment);
      return (decoded?.assignment[env.config.kafka.topic] ?? []).slice().sort((a, b) => a - b);
    });
  } finally {
    await admin.disconnect();
  }
}

async function waitForOwners(members: number): Promise<number[][]> {
  const deadline = Date.now() + 90_000;
  for (;;) {
    const got = await assignments();
    const owned = got.flat().sort((a, b) => a - b);
    if (got.length === members && owned.length === PARTITIONS && new Set(owned).size === PARTITIONS) return got;
    if (Date.now() > deadline) throw new Error(`group never settled on ${members} members owning all partitions: ${JSON.stringify(got)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

test('scale consumers 1 → 3 → 1 and workers 1 → 2 → 1 under load: nothing lost, every partition consumed', { timeout: 600_000 }, async () => {
  fleet = new Fleet({
    env: (role, port) => env.childEnv({ [HTTP_PORT_SETTING[role]]: port, 'log.level': 'info' }),
    logDir: path.join(stackLayout(env.config).logs, `scale-${env.runId}`),
    log: env.log,
  });
  await fleet.scale('work', 1);
  await fleet.scale('consume', 1);
  assert.deepEqual(await waitForOwners(1), [[0, 1, 2, 3, 4, 5]]);
  const producer = await startProducer(env.config, { ratePerSec: 1_000, count: 40_000, accounts: 400, seed: 1234, malformedRatio: 0.005 }, env.log);
  stopProducer = producer.stop;

  await new Promise((r) => setTimeout(r, 3_000));
  await fleet.scale('consume', 3);
  const three = await waitForOwners(3);
  assert.ok(three.every((owned) => owned.length === 2), `each of 3 consumers owns 2 of 6 partitions: ${JSON.stringify(three)}`);
  await fleet.scale('work', 2);

  await new Promise((r) => setTimeout(r, 8_000));
  await fleet.scale('consume', 1);
  await fleet.scale('work', 1);
  assert.deepEqual(await waitForOwners(1), [[0, 1, 2, 3, 4, 5]]);

  const produced = await producer.done;
  assert.equal(produced.sent, 40_000);
  const report = await verify(env.config, { waitMs: 240_000 }, env.log);
  assert.equal(report.lag, 0, 'every partition consumed to its end');
  assert.equal(report.missing, 0);
  assert.equal(report.duplicated, 0);
  assert.equal(report.balanceMismatches, 0);
  assert.equal(report.ok, true, JSON.stringify(report));
  assert.deepEqual(fleet.crashes, [], 'no process died on its own');
  assert.ok(fleet.gracefulExits.length >= 3, 'two consumers and one worker were scaled in');
  assert.deepEqual(fleet.gracefulExits.filter((e) => e.code !== 0), [], 'every scaled-in process drained and exited 0');
});
