/**
 * The consumer reads the topic's real partition count from the broker, exports it, and refuses
 * readiness when kafka.partitions (the chart's replica cap) is above it: an autoscaler trusting the
 * cap would add consumers that get no partition (docs/decisions/028-autoscaling-signals.md).
 * Real Kafka and Temporal; the topic is created with 2 partitions before any consumer starts.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Config } from '../../src/config';
import { startConsumer, type ConsumerHandle } from '../../src/consumer';
import { createKafka } from '../../src/kafka/client';
import { createTestPipeline, type TestPipeline } from '../helpers/pipeline';
import { freePort } from '../helpers/processes';

const TOPIC_PARTITIONS = 2;
let env: TestPipeline;
const running: ConsumerHandle[] = [];

before(async () => {
  env = await createTestPipeline('partition-cap', { 'kafka.partitions': TOPIC_PARTITIONS });
  const admin = createKafka(env.config, 'test-admin').admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic: env.config.kafka.topic, numPartitions: TOPIC_PARTITIONS, replicationFactor: 1 }], waitForLeaders: true });
    const [meta] = (await admin.fetchTopicMetadata({ topics: [env.config.kafka.topic] })).topics;
    assert.equal(meta?.partitions.length, TOPIC_PARTITIONS);
  } finally {
    await admin.disconnect();
  }
});

after(async () => {
  for (const c of running) await c.stop().catch(() => undefined);
  await env?.dispose();
});

/** Starts a consumer of the 2-partition topic that believes the topic has `cap` partitions. */
async function consumerWithCap(cap: number): Promise<{ port: number; handle: ConsumerHandle }> {
  const port = await freePort();
  const config: Config = { ...env.config, kafka: { ...env.config.kafka, partitions: cap }, consumer: { ...env.config.consumer, httpPort: port } };
  const handle = await startConsumer(config, env.log);
  running.push(handle);
  return { port, handle };
}

async function probe(port: number): Promise<{ status: number; body: { ready: boolean; reason?: string }; metrics: string }> {
  const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
  const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return { status: ready.status, body: (await ready.json()) as { ready: boolean; reason?: string }, metrics };
}

const gauge = (metrics: string, name: string, topic: string): number | undefined => {
  const line = metrics.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(`topic="${topic}"`));
  return line === undefined ? undefined : Number(line.split(' ').pop());
};

test('a cap above the topic\'s partitions: /readyz 503 with the reason, the real count exported', { timeout: 120_000 }, async () => {
  const { port, handle } = await consumerWithCap(6);
  const { status, body, metrics } = await probe(port);
  assert.equal(status, 503);
  assert.equal(body.ready, false);
  assert.match(body.reason ?? '', /has 2 partitions but kafka\.partitions \(LF_KAFKA_PARTITIONS\) is 6/);
  assert.equal(gauge(metrics, 'ledgerflow_kafka_topic_partitions', env.config.kafka.topic), TOPIC_PARTITIONS);
  assert.equal(gauge(metrics, 'ledgerflow_consumer_partition_cap', env.config.kafka.topic), 6);
  await handle.stop();
});

test('a cap equal to or below the topic\'s partitions: ready (below only loses headroom)', { timeout: 120_000 }, async () => {
  for (const cap of [TOPIC_PARTITIONS, 1]) {
    const { port, handle } = await consumerWithCap(cap);
    const { status, body, metrics } = await probe(port);
    assert.equal(status, 200, `cap ${cap}: ${JSON.stringify(body)}`);
    assert.equal(gauge(metrics, 'ledgerflow_kafka_topic_partitions', env.config.kafka.topic), TOPIC_PARTITIONS);
    await handle.stop();
  }
});
