import type { Kafka, KafkaMessage } from 'kafkajs';
import { readPartitions } from '../kafka/read';

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

/** Verify reads with fetches this large: few round trips, one partition at a time. */
const READ_MAX_BYTES = 8 << 20;

/**
 * Reads a topic from its log start up to the given high watermarks (one partition at a time, a
 * throw-away group that commits nothing), calling `visit` for every message. A batch that cannot
 * be decoded ends the read at once with its topic, partition and offset (UnreadableBatchError).
 */
export async function readTopicUpTo(
  kafka: Kafka,
  topic: string,
  highs: ReadonlyMap<number, bigint>,
  visit: (partition: number, message: KafkaMessage) => void,
  timeoutMs = 120_000,
): Promise<void> {
  if (![...highs.values()].some((high) => high > 0n)) return;
  const lows = await lowWatermarks(kafka, topic);
  const ranges = [...highs].map(([partition, high]) => ({ partition, from: lows.get(partition) ?? 0n, to: high }));
  await readPartitions(kafka, topic, ranges, visit, { timeoutMs, maxBytes: READ_MAX_BYTES });
}

async function lowWatermarks(kafka: Kafka, topic: string): Promise<Map<number, bigint>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return new Map((await admin.fetchTopicOffsets(topic)).map((o) => [o.partition, BigInt(o.low)]));
  } finally {
    await admin.disconnect();
  }
}
