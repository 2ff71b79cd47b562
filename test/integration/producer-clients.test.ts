/**
 * The load generator's two Kafka clients write the same thing: with the same seed, every event
 * lands on the same partition (murmur2 of its account), in the same order per partition, with a
 * produce timestamp from the run. Real Kafka; each client its own scratch topic. The benchmark's
 * latency phase produces with @platformatic/kafka and prepared events (decision 015).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createKafka, partitionOfKey } from '../../src/kafka/client';
import { startProducer, type ProduceOptions } from '../../src/producer';
import { createScratchRun, type ScratchRun } from '../../src/stack/scratch';
import { createLogger } from '../../src/telemetry/log';
import { highWatermarks, readTopicUpTo } from '../../src/verify/kafkaRead';

const COUNT = 3_000;
const runs: ScratchRun[] = [];

before(async () => {
  // The load generator's @platformatic/kafka writes zstd only with node:zlib's zstd (Node 22.15+): both
  // runs use lz4 so the comparison holds on Node 20 too (decision 016).
  for (const name of ['producer-kafkajs', 'producer-platformatic']) runs.push(await createScratchRun(name, { 'log.level': 'warn', 'kafka.compression': 'lz4' }));
});

after(async () => {
  for (const run of runs) await run.dispose();
});

/** Produces COUNT events at 3,000/s and reads them back: per partition, [account, id, timestamp] in offset order. */
async function produceAndRead(run: ScratchRun, client: ProduceOptions['client']) {
  const startedMs = Date.now();
  const producer = await startProducer(run.config, { ratePerSec: 3_000, count: COUNT, accounts: 500, seed: 20261201, malformedRatio: 0, fraudRate: 0.015, clock: 'simulated', labels: { database: false }, prepare: true, ...(client ? { client } : {}) }, createLogger('warn', 'it-produce'));
  const report = await producer.done;
  assert.equal(report.sent, COUNT);
  const kafka = createKafka(run.config, 'it-read');
  const byPartition = new Map<number, Array<{ key: string; id: string; timestampMs: number }>>();
  await readTopicUpTo(kafka, run.config.kafka.topic, await highWatermarks(kafka, run.config.kafka.topic), (partition, m) => {
    const list = byPartition.get(partition) ?? [];
    list.push({ key: String(m.key), id: (JSON.parse(String(m.value)) as { id: string }).id, timestampMs: Number(m.timestamp) });
    byPartition.set(partition, list);
  });
  return { byPartition, startedMs, endedMs: Date.now() };
}

test('kafkajs and @platformatic/kafka put the same events on the same partitions, timestamped at the send', async () => {
  const [kafkajsRun, platformaticRun] = runs as [ScratchRun, ScratchRun];
  const viaKafkajs = await produceAndRead(kafkajsRun, undefined);
  const viaPlatformatic = await produceAndRead(platformaticRun, 'platformatic');
  const partitions = kafkajsRun.config.kafka.partitions;
  let total = 0;
  for (const [partition, messages] of viaPlatformatic.byPartition) {
    total += messages.length;
    for (const m of messages) {
      assert.equal(partitionOfKey(m.key, partitions), partition, `${m.key} on its key's partition`);
      assert.ok(m.timestampMs >= viaPlatformatic.startedMs && m.timestampMs <= viaPlatformatic.endedMs, 'timestamped during the run');
    }
    // The same seed generates the same events (ids are UUIDv7: time-based, so compare the accounts).
    assert.deepEqual(
      messages.map((m) => m.key),
      (viaKafkajs.byPartition.get(partition) ?? []).map((m) => m.key),
      `partition ${partition} holds the same accounts in the same order`,
    );
  }
  assert.equal(total, COUNT);
  assert.equal(viaKafkajs.byPartition.size, viaPlatformatic.byPartition.size);
});
