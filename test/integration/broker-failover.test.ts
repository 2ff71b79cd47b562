import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Kafka, logLevel, Partitioners, type Message } from 'kafkajs';
import type { Config } from '../../src/config';
import { startConsumer, type ConsumerHandle } from '../../src/consumer';
import { createIdempotentProducer, createKafka, ensureTopics } from '../../src/kafka/client';
import { createGenerator } from '../../src/producer/generator';
import { kafkaClusterBrokers, kafkaClusterNodes, killKafkaClusterNode, startKafkaCluster, startKafkaClusterNode, stopKafkaCluster } from '../../src/stack';
import { createPool } from '../../src/store/pool';
import { verify, type VerifyReport } from '../../src/verify';
import { highWatermarks } from '../../src/verify/kafkaRead';
import { startWorker, type WorkerHandle } from '../../src/worker';
import { createTestPipeline, type TestPipeline } from '../helpers/pipeline';

/**
 * Guarantee 1 when a broker dies: on a 3-broker KRaft cluster (replication 3, min ISR 2, no
 * unclean election), the broker leading partition 0 is SIGKILLed mid-load and restarted later
 * while producers, consumer and worker keep running → 0 missing, 0 duplicated, balances exact.
 * verify() derives what is owed from the topic, so it cannot see an event lost between a
 * producer's acknowledgement and the topic: each producer here keeps a ledger of acknowledged ids.
 */
const COUNT_PER_PRODUCER = 10_000;
const RATE_PER_SEC = 125; // per producer: 20,000 events over ~80 s
const SEED = 20261126;
let env: TestPipeline;
let config: Config;
let worker: WorkerHandle | undefined;
let consumer: ConsumerHandle | undefined;
const stops: Array<() => Promise<unknown>> = [];
const logLine = (line: string) => console.error(line);

before(async () => {
  // The pipeline's database and Temporal come from the single-node stack as usual; only Kafka is
  // the cluster. (Passing the cluster's brokers to createTestPipeline would make its `stack up`
  // treat port 19092 as the single-node broker's and rewrite that broker's server.properties.)
  env = await createTestPipeline('failover');
  config = { ...env.config, kafka: { ...env.config.kafka, brokers: kafkaClusterBrokers(env.config).split(','), replicationFactor: 3 } };
  await stopKafkaCluster(config, { wipe: true, log: logLine }); // leftovers of an aborted run
  await startKafkaCluster(config, { log: logLine });
});

after(async () => {
  for (const stop of stops) await stop().catch(() => undefined);
  await consumer?.stop();
  await worker?.stop();
  if (env) {
    const pool = createPool(env.config, 'migrate', 1);
    await pool.query('DROP DATABASE IF EXISTS ??', [env.config.db.name]).finally(() => pool.end());
  }
  if (config) await stopKafkaCluster(config, { wipe: true, log: logLine });
});

interface Ledger {
  /** Ids of well-formed events whose send() resolved. */
  acked: string[];
  malformed: number;
  /** Partitions a resolved send() was given messages for but reported no offset for. */
  unreported: Array<{ partition: number; messages: number }>;
  elapsedMs: number;
  /** send() calls retried with a fresh producer after a non-retriable error. */
  resends: number;
}

/**
 * Steady synthetic load like `ledgerflow produce`, recording what Kafka acknowledged. `perPartition`
 * sends each partition's messages in their own send(); otherwise one send() spans all partitions,
 * as the producer and HTTP ingest do.
 */
async function produceWithLedger(seed: number, perPartition: boolean): Promise<{ done: Promise<Ledger>; stop: () => Promise<unknown> }> {
  const kafka = createKafka(config, `failover-${perPartition ? 'per-partition' : 'spanning'}`, env.log);
  let producer = createIdempotentProducer(kafka);
  await producer.connect();
  // As src/producer does: kafkajs's idempotent producer can fail for good across a leader change
  // (OUT_OF_ORDER_SEQUENCE_NUMBER); a fresh producer resends the same events (same ids).
  const send = async (messages: Message[]) => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await producer.send({ topic: config.kafka.topic, acks: -1, messages });
      } catch (err) {
        if (attempt >= 30) throw err;
        ledger.resends += 1;
        await producer.disconnect().catch(() => undefined);
        producer = createIdempotentProducer(kafka);
        await producer.connect().catch(() => undefined);
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  };
  const next = createGenerator({ accounts: 300, seed, malformedRatio: 0.005 });
  const partitioner = Partitioners.DefaultPartitioner();
  const partitionMetadata = Array.from({ length: config.kafka.partitions }, (_, partitionId) => ({ partitionId, leader: 0, partitionErrorCode: 0, replicas: [], isr: [] }));
  const ledger: Ledger = { acked: [], malformed: 0, unreported: [], elapsedMs: 0, resends: 0 };
  let stopping = false;
  let sent = 0;
  const started = Date.now();
  const run = async () => {
    while (!stopping && sent < COUNT_PER_PRODUCER) {
      const size = Math.min(COUNT_PER_PRODUCER - sent, Math.floor(((Date.now() - started) / 1000) * RATE_PER_SEC) - sent);
      if (size <= 0) {
        await new Promise((r) => setTimeout(r, 50));
        continue;
      }
      const byPartition = new Map<number, Array<{ message: Message; id?: string }>>();
      for (let i = 0; i < size; i++) {
        const m = next();
        const partition = partitioner({ topic: config.kafka.topic, partitionMetadata, message: { key: m.key, value: m.value } });
        const items = byPartition.get(partition) ?? [];
        items.push({ message: { key: m.key, value: m.value, partition }, ...(m.event ? { id: m.event.id } : {}) });
        byPartition.set(partition, items);
      }
      const sends = perPartition ? [...byPartition.keys()].map((p) => [p]) : [[...byPartition.keys()]];
      for (const partitions of sends) {
        const messages = partitions.flatMap((p) => (byPartition.get(p) ?? []).map((item) => item.message));
        const reported = new Set((await send(messages)).map((r) => r.partition));
        for (const p of partitions) {
          const items = byPartition.get(p) ?? [];
          if (!reported.has(p)) ledger.unreported.push({ partition: p, messages: items.length });
          for (const item of items) {
            if (item.id) ledger.acked.push(item.id);
            else ledger.malformed += 1;
          }
        }
      }
      sent += size;
    }
    ledger.elapsedMs = Date.now() - started;
    return ledger;
  };
  const done = run().finally(() => producer.disconnect());
  // Bounded: a send stuck retrying against a stopped cluster must not hold the test process open.
  const stop = async () => {
    stopping = true;
    await Promise.race([done.catch(() => undefined), new Promise((r) => setTimeout(r, 10_000).unref())]);
    await producer.disconnect().catch(() => undefined);
  };
  return { done, stop };
}

async function partitionsOf(topic: string) {
  const admin = createKafka(config, 'failover-admin').admin();
  await admin.connect();
  try {
    const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
    return topics[0]?.partitions ?? [];
  } finally {
    await admin.disconnect();
  }
}

/** Each broker answers metadata from its own cache, which learns of a new topic a moment later. */
async function topicKnownByEveryBroker(topics: string[]): Promise<boolean> {
  for (const node of kafkaClusterNodes(config)) {
    const admin = new Kafka({ clientId: 'failover-probe', brokers: [node.address], logLevel: logLevel.NOTHING, retry: { retries: 0 } }).admin();
    try {
      await admin.connect();
      const { topics: found } = await admin.fetchTopicMetadata({ topics });
      if (!found.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0))) return false;
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }
  return true;
}

async function producedSoFar(): Promise<number> {
  const highs = await highWatermarks(createKafka(config, 'failover-progress'), config.kafka.topic);
  return Number([...highs.values()].reduce((a, b) => a + b, 0n));
}

async function waitUntil(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await check().catch(() => false)) return Date.now() - started;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function storedIds(): Promise<Set<string>> {
  const pool = createPool(config, 'app', 1);
  try {
    const [rows] = await pool.query('SELECT id FROM transactions');
    return new Set((rows as Array<{ id: string }>).map((r) => r.id));
  } finally {
    await pool.end();
  }
}

let spanning: Ledger | undefined;
let stored: Set<string> | undefined;
let finalReport: VerifyReport | undefined;

test(`${2 * COUNT_PER_PRODUCER} transactions while the leader of partition 0 is SIGKILLed and restarted: every acknowledged one stored once`, { timeout: 300_000 }, async (t) => {
  const started = Date.now();
  // Topics first (replication 3, min ISR 2), known to every broker before the consumer subscribes.
  // On a fresh multi-broker KRaft cluster ensureTopics itself may fail with UNKNOWN_TOPIC_OR_PARTITION
  // (kafkajs waits for leaders by asking a broker that has not learnt of the topic yet); it is
  // idempotent, so it is simply called again.
  await waitUntil('the topics created', 30_000, async () => {
    const admin = createKafka(config, 'failover-setup').admin();
    await admin.connect();
    await ensureTopics(config, admin).finally(() => admin.disconnect());
    return true;
  });
  await waitUntil('the topics on every broker', 30_000, () => topicKnownByEveryBroker([config.kafka.topic, config.kafka.dlqTopic]));
  worker = await startWorker(config, env.log);
  consumer = await startConsumer(config, env.log);
  const initial = await partitionsOf(config.kafka.topic);
  assert.ok(initial.length > 0 && initial.every((p) => p.replicas.length === 3 && p.isr.length === 3), 'every partition has 3 in-sync replicas');

  const safe = await produceWithLedger(SEED, true);
  const wide = await produceWithLedger(SEED + 1, false);
  stops.push(safe.stop, wide.stop);

  const total = 2 * COUNT_PER_PRODUCER;
  await waitUntil('30 % produced', 120_000, async () => (await producedSoFar()) >= total * 0.3);
  const victim = (await partitionsOf(config.kafka.topic)).find((p) => p.partitionId === 0)?.leader;
  assert.ok(victim !== undefined && victim > 0, 'partition 0 has a leader');
  const killedAt = Date.now();
  await killKafkaClusterNode(config, victim, 'SIGKILL', { log: logLine });
  const failoverMs = await waitUntil('a new leader of partition 0', 60_000, async () => {
    const p0 = (await partitionsOf(config.kafka.topic)).find((p) => p.partitionId === 0);
    return p0 !== undefined && p0.leader >= 0 && p0.leader !== victim;
  });
  await waitUntil('65 % produced', 180_000, async () => (await producedSoFar()) >= total * 0.65 && Date.now() - killedAt > 20_000);
  const downMs = Date.now() - killedAt;
  await startKafkaClusterNode(config, victim, { log: logLine });
  const catchUpMs = await waitUntil('the restarted broker back in every ISR', 90_000, async () =>
    (await partitionsOf(config.kafka.topic)).every((p) => p.isr.length === 3));

  const [perPartition, wideLedger] = await Promise.all([safe.done, wide.done]);
  spanning = wideLedger;
  const report = await verify(config, { waitMs: 180_000 }, env.log);
  finalReport = report;
  stored = await storedIds();
  const lost = perPartition.acked.filter((id) => !stored?.has(id));
  t.diagnostic(`killed node ${victim} (leader of partition 0) at ${killedAt - started} ms; new leader after ${failoverMs} ms; down ${downMs} ms; back in every ISR ${catchUpMs} ms after its restart`);
  t.diagnostic(`per-partition producer: ${perPartition.acked.length} acknowledged (+${perPartition.malformed} malformed) in ${perPartition.elapsedMs} ms, ${lost.length} of them not stored; total ${Date.now() - started} ms`);
  t.diagnostic(`verify ${JSON.stringify({ ...report, examples: undefined })}`);
  assert.equal(report.lag, 0, 'drained and committed');
  assert.equal(report.missing, 0, `missing: ${report.examples.missing.join(', ')}`);
  assert.equal(report.duplicated, 0, `duplicated: ${report.examples.duplicated.join(', ')}`);
  assert.equal(report.contentMismatches, 0);
  assert.equal(report.balanceMismatches, 0, report.examples.balanceMismatches.join('; '));
  assert.equal(report.dlqMissing, 0);
  assert.equal(report.stored, report.valid);
  assert.equal(report.ok, true);
  assert.deepEqual(perPartition.unreported, [], 'every per-partition send() reported its partition');
  assert.equal(lost.length, 0, `acknowledged but never stored: ${lost.slice(0, 5).join(', ')}`);
});

// Found by this test: kafkajs 2.2.4 sendMessages keeps a response per broker across retries. When
// one send() spans partitions and a partition's leader dies, the retry maps that partition to the
// new leader; if the new leader had already answered for its own partitions in this send(), the
// moved partition's messages are never sent again and send() resolves anyway (no offset reported
// for that partition). Kept as a todo to document the library: the producer and HTTP ingest no
// longer send spanning batches (src/kafka/client.ts sendKeyed: one send() per partition).
test('a send() spanning partitions across the failover: every message it resolved for is in the topic', { todo: 'kafkajs 2.2.4 drops a moved partition from a spanning send(); Ledgerflow uses sendKeyed' }, (t) => {
  assert.ok(spanning && stored && finalReport, 'the failover test ran');
  const lost = spanning.acked.filter((id) => !stored?.has(id));
  t.diagnostic(`spanning producer: ${spanning.acked.length} acknowledged, ${lost.length} never stored; resolved send()s without an offset for a partition: ${JSON.stringify(spanning.unreported)}`);
  assert.deepEqual(spanning.unreported, []);
  assert.equal(lost.length, 0, `acknowledged but never written: ${lost.slice(0, 5).join(', ')}`);
});
