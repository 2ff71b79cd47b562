import type { Kafka } from 'kafkajs';
import { LedgerflowError } from '../domain/errors';
import type { UndecodableBatchError } from '../kafka/codecs';
import { readPartitions, UnreadableBatchError } from '../kafka/read';

/** Finding the batch again reads one fetch per partition; a slow broker gets this long. */
const LOCATE_TIMEOUT_MS = 60_000;

/**
 * The consumer's fetch failed on a batch it cannot decode (kafkajs fails a fetch as a whole, so
 * the error does not say which partition). Fetch each partition once more, alone, from where the
 * consumer stood (`positions`: what its lanes fetch next; elsewhere the group's committed offset),
 * with the same fetch size: the one whose fetch fails again is the stuck one. Resolves to the
 * error to exit with, naming topic, partition and offset when found, the original one otherwise.
 */
export async function locateUndecodableBatch(
  kafka: Kafka,
  topic: string,
  groupId: string,
  positions: ReadonlyMap<number, bigint>,
  maxBytes: number,
  original: UndecodableBatchError,
): Promise<LedgerflowError> {
  try {
    const admin = kafka.admin();
    await admin.connect();
    let ranges;
    try {
      const [offsets, [group]] = await Promise.all([admin.fetchTopicOffsets(topic), admin.fetchOffsets({ groupId, topics: [topic] })]);
      const committed = new Map((group?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)]));
      ranges = offsets.map((o) => {
        const done = committed.get(o.partition) ?? -1n;
        return { partition: o.partition, from: positions.get(o.partition) ?? (done >= 0n ? done : BigInt(o.low)), to: BigInt(o.high) };
      });
    } finally {
      await admin.disconnect();
    }
    await readPartitions(kafka, topic, ranges, () => undefined, { timeoutMs: LOCATE_TIMEOUT_MS, maxBytes, firstFetchOnly: true });
    return new LedgerflowError('LF_UNDECODABLE_BATCH', `topic ${topic}: ${original.message} (every partition decoded when fetched again, so its partition is unknown)`, topic);
  } catch (err) {
    return err instanceof UnreadableBatchError ? err : new LedgerflowError('LF_UNDECODABLE_BATCH', `topic ${topic}: ${original.message} (locating its partition failed: ${(err as Error).message})`, topic);
  }
}
