/**
 * Every batch a standard Kafka producer can write is read: Kafka's own Java console producer (not
 * kafkajs) sends valid and malformed events with each codec (none, gzip, snappy, lz4, zstd), then
 * with the topic's compression.type=zstd (the broker recompresses every batch). Through the real
 * pipeline: verify ok, nothing lost or duplicated, every malformed event in the DLQ byte for byte,
 * and kafka-dump-log shows each batch stored in the codec the case claims.
 *
 * A batch that cannot be decoded (its compressed bytes corrupted in the broker's log, as bit rot
 * would) stops verify and the consumer with its topic, partition and offset, never a hang.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, test } from 'node:test';
import type { KafkaMessage } from 'kafkajs';
import { createKafka } from '../../src/kafka/client';
import { createGenerator } from '../../src/producer/generator';
import { verify } from '../../src/verify';
import { highWatermarks, readTopicUpTo } from '../../src/verify/kafkaRead';
import { consoleProduce, dumpLog, partitionDir } from '../helpers/kafka-tools';
import { startTestPipeline, type RunningPipeline } from '../helpers/pipeline';
import { exited, freePort, spawnLedgerflow } from '../helpers/processes';

const EVENTS_PER_CASE = 300;
const CASES = [
  ...(['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const).map((codec) => ({ name: codec as string, codec, stored: codec as string, topicZstd: false })),
  // The topic's own compression.type=zstd: whatever the producer wrote, the broker stores zstd.
  ...(['none', 'snappy', 'lz4'] as const).map((codec) => ({ name: `topic-zstd/${codec}`, codec, stored: 'zstd', topicZstd: true })),
];

let p: RunningPipeline;

before(async () => {
  p = await startTestPipeline('codecs', { 'consumer.lingerMs': 100 });
});

after(async () => {
  await p?.stop();
});

type Offsets = Map<number, bigint>;

async function readAll(topic: string): Promise<Array<{ partition: number; message: KafkaMessage }>> {
  const kafka = createKafka(p.env.config, 'it-codecs-read');
  const out: Array<{ partition: number; message: KafkaMessage }> = [];
  await readTopicUpTo(kafka, topic, await highWatermarks(kafka, topic), (partition, message) => out.push({ partition, message }));
  return out;
}

test('the Java console producer with every codec, and a zstd topic: verify ok, 0 lost, 0 duplicated, DLQ byte-exact', async () => {
  const { config } = p.env;
  const topic = config.kafka.topic;
  const kafka = createKafka(config, 'it-codecs');
  const generate = createGenerator({ accounts: 200, seed: 29, malformedRatio: 0.08 });
  const cases: Array<{ name: string; stored: string; ids: string[]; malformed: string[]; before: Offsets; after: Offsets }> = [];
  for (const c of CASES) {
    if (c.topicZstd && !cases.some((k) => k.name.startsWith('topic-zstd'))) {
      const admin = kafka.admin();
      await admin.connect();
      await admin.alterConfigs({ validateOnly: false, resources: [{ type: 2 /* TOPIC */, name: topic, configEntries: [{ name: 'compression.type', value: 'zstd' }] }] });
      await admin.disconnect();
    }
    const messages = Array.from({ length: EVENTS_PER_CASE }, () => generate());
    const beforeOffsets = await highWatermarks(kafka, topic);
    await consoleProduce(config, topic, messages.map((m) => ({ key: m.key, value: m.value.toString('utf8') })), c.codec);
    cases.push({
      name: c.name,
      stored: c.stored,
      ids: messages.flatMap((m) => (m.event ? [m.event.id] : [])),
      malformed: messages.filter((m) => m.malformedKind).map((m) => m.value.toString('utf8')),
      before: beforeOffsets,
      after: await highWatermarks(kafka, topic),
    });
  }

  const report = await verify(config, { waitMs: 180_000 }, p.env.log);
  assert.equal(report.lag, 0, 'the consumer read everything');
  assert.equal(report.produced, CASES.length * EVENTS_PER_CASE);
  assert.equal(report.missing, 0, `lost: ${report.examples.missing.join(', ')}`);
  assert.equal(report.duplicated, 0);
  assert.equal(report.dlqMissing, 0, `not in the DLQ: ${report.examples.dlqMissing.join(', ')}`);
  assert.ok(report.ok, JSON.stringify(report));

  // Per case: every valid id stored once; every malformed event in the DLQ with its exact bytes.
  const source = new Map((await readAll(topic)).map(({ partition, message }) => [`${partition}:${message.offset}`, message.value as Buffer]));
  const dlq = await readAll(config.kafka.dlqTopic);
  const [rows] = await p.pool.query('SELECT id, COUNT(*) AS n FROM transactions GROUP BY id');
  const stored = new Map((rows as Array<{ id: string; n: number }>).map((r) => [r.id, Number(r.n)]));
  const batches = await dumpLog(config, topic, Array.from({ length: config.kafka.partitions }, (_, i) => i));
  for (const c of cases) {
    assert.ok(c.ids.length > 0 && c.malformed.length > 0, `${c.name}: valid and malformed events`);
    assert.deepEqual(c.ids.filter((id) => stored.get(id) !== 1), [], `${c.name}: every valid event stored exactly once`);
    const inRange = (partition: number, offset: bigint) => offset >= (c.before.get(partition) ?? 0n) && offset < (c.after.get(partition) ?? 0n);
    const dead = dlq.filter(({ message }) => {
      const h = message.headers ?? {};
      return inRange(Number(String(h['lf-source-partition'])), BigInt(String(h['lf-source-offset'])));
    });
    for (const { message } of dead) {
      const h = message.headers ?? {};
      const original = source.get(`${String(h['lf-source-partition'])}:${String(h['lf-source-offset'])}`);
      assert.ok(original && (message.value as Buffer).equals(original), `${c.name}: DLQ copy equals the source bytes`);
      assert.ok(String(h['lf-reason']).length > 0, `${c.name}: DLQ copy carries its reason`);
    }
    assert.deepEqual(dead.map(({ message }) => (message.value as Buffer).toString('utf8')).sort(), [...c.malformed].sort(), `${c.name}: every malformed event in the DLQ`);
    const codecs = new Set([...batches].flatMap(([partition, list]) => list.filter((b) => inRange(partition, b.baseOffset)).map((b) => b.codec)));
    assert.deepEqual([...codecs], [c.stored], `${c.name}: the broker stored ${c.stored} batches`);
  }
});

/**
 * Corrupts one stored lz4 batch's compressed bytes in the broker's log file (the broker serves a
 * fetch from the file as it is, without checking CRCs), as a failing disk would.
 */
async function corruptOneBatch(topic: string, partition: number): Promise<{ baseOffset: bigint }> {
  const { config } = p.env;
  const batches = (await dumpLog(config, topic, [partition])).get(partition) ?? [];
  const target = batches.find((b) => b.codec === 'lz4' && b.baseOffset > 0n);
  assert.ok(target, `an lz4 batch past offset 0 in partition ${partition}: ${JSON.stringify(batches, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))}`);
  const file = `${partitionDir(config, topic, partition)}/00000000000000000000.log`;
  const fd = fs.openSync(file, 'r+');
  try {
    // 61 bytes of batch header, then the LZ4 frame: zero its magic and first block.
    fs.writeSync(fd, Buffer.alloc(32), 0, 32, target.position + 61);
  } finally {
    fs.closeSync(fd);
  }
  return { baseOffset: target.baseOffset };
}

test('a batch that cannot be decoded: verify and the consumer exit non-zero naming topic, partition and offset', async () => {
  const { config } = p.env;
  const topic = `${config.kafka.topic}-corrupt`;
  const dlqTopic = `${topic}.dlq`;
  const env = p.env.childEnv({ 'kafka.topic': topic, 'kafka.dlqTopic': dlqTopic, 'kafka.groupId': topic, 'log.level': 'info' });
  const kafka = createKafka(config, 'it-codecs-corrupt');
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 2 }, { topic: dlqTopic, numPartitions: 1 }] });
  try {
    const generate = createGenerator({ accounts: 50, seed: 7, malformedRatio: 0 });
    // Three sends: the partitions then hold several lz4 batches each, the corrupt one in between.
    for (let i = 0; i < 3; i++) {
      await consoleProduce(config, topic, Array.from({ length: 60 }, () => generate()).map((m) => ({ key: m.key, value: m.value.toString('utf8') })), 'lz4');
    }
    const { baseOffset } = await corruptOneBatch(topic, 1);
    const where = new RegExp(`LF_UNDECODABLE_BATCH: topic ${topic} partition 1 offset ${baseOffset}: lz4 record batch at offsets ${baseOffset}-\\d+ cannot be decompressed`);

    const verifyChild = spawnLedgerflow('verify', env, ['--wait-ms', '500']);
    const verified = await exited(verifyChild);
    assert.equal(verified.code, 1, verifyChild.output.join(''));
    assert.match(verifyChild.output.join(''), where);

    const port = await freePort();
    const consumer = spawnLedgerflow('consume', { ...env, LF_CONSUMER_HTTP_PORT: String(port), LF_CONSUMER_UNDECODABLE_EXIT_DELAY_MS: '8000' });
    const done = exited(consumer);
    // Unhealthy, with the reason, and the stuck partition on /metrics, until it exits non-zero.
    let health: { status?: string; reason?: string } = {};
    let metrics = '';
    for (let i = 0; i < 600 && consumer.exitCode === null && !/undecodable_batch_offset\{/.test(metrics); i++) {
      await new Promise((r) => setTimeout(r, 100));
      health = await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.json() as Promise<typeof health>, () => ({}));
      metrics = await fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text(), () => '');
    }
    assert.equal(health.status, 'failed', consumer.output.join(''));
    assert.match(health.reason ?? '', new RegExp(`topic ${topic} partition 1 offset ${baseOffset}`));
    assert.match(metrics, new RegExp(`ledgerflow_consumer_undecodable_batch_offset\\{[^}]*partition="1"[^}]*\\} ${baseOffset}\\n`));
    const { code } = await done;
    assert.equal(code, 1, consumer.output.join(''));
    assert.match(consumer.output.join(''), where);
  } finally {
    await admin.deleteTopics({ topics: [topic, dlqTopic] }).catch(() => undefined);
    await admin.disconnect();
  }
});
