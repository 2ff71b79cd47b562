import type { Kafka, KafkaMessage } from 'kafkajs';
import { randomUUID } from 'node:crypto';

/** High watermark (next offset to be written) per partition. */
export async function highWatermarks(kafka: Kafka, topic: string): Promise<Map<number, bigint>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return new Map(offsets.map((o) => [o.partition, BigInt(o.high)]));
  } finally {
    await admin.disconnect();
  }
}

/** Committed offset per partition of a consumer group (-1 when none). */
export async function committedOffsets(kafka: Kafka, groupId: string, topic: string): Promise<Map<number, bigint>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [entry] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return new Map((entry?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)]));
  } finally {
    await admin.disconnect();
  }
}

/**
 * Reads a topic from the beginning up to the given high watermarks with a throw-away group that
 * commits nothing, calling `visit` for every message.
 */
export async function readTopicUpTo(
  kafka: Kafka,
  topic: string,
  highs: ReadonlyMap<number, bigint>,
  visit: (partition: number, message: KafkaMessage) => void,
  timeoutMs = 120_000,
): Promise<void> {
  const pending = new Set([...highs].filter(([, high]) => high > 0n).map(([p]) => p));
  if (pending.size === 0) return;
  const consumer = kafka.consumer({ groupId: `ledgerflow-verify-${randomUUID()}`, maxBytesPerPartition: 8 << 20 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      const high = highs.get(batch.partition) ?? 0n;
      for (const message of batch.messages) {
        if (BigInt(message.offset) >= high) break;
        visit(batch.partition, message);
        if (BigInt(message.offset) === high - 1n) pending.delete(batch.partition);
      }
      if (pending.size === 0) finish();
    },
  });
  const timer = setTimeout(finish, timeoutMs);
  await finished;
  clearTimeout(timer);
  await consumer.disconnect();
  if (pending.size > 0) throw new Error(`could not read ${topic} partitions ${[...pending].join(',')} to their end within ${timeoutMs} ms`);
}
