import type { Admin } from 'kafkajs';

/**
 * Lag of a consumer group per partition, from the broker's view: high watermark minus the group's
 * committed offset (minus the log start when nothing is committed yet), never below zero.
 */
export async function consumerGroupLag(admin: Admin, topic: string, groupId: string): Promise<Array<{ partition: number; lag: bigint }>> {
  const [highs, [group]] = await Promise.all([admin.fetchTopicOffsets(topic), admin.fetchOffsets({ groupId, topics: [topic] })]);
  const committed = new Map((group?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)]));
  return highs.map((h) => {
    const done = committed.get(h.partition) ?? -1n;
    const lag = BigInt(h.high) - (done < 0n ? BigInt(h.low) : done);
    return { partition: h.partition, lag: lag > 0n ? lag : 0n };
  });
}
