import type { Kafka } from 'kafkajs';
import type { Config } from '../config';
import { LedgerflowError } from '../domain/errors';
import type { UndecodableBatchError } from '../kafka/codecs';
import { readPartitions, UnreadableBatchError } from '../kafka/read';
import type { Logger } from '../telemetry/log';
import type { createMetrics } from '../telemetry/metrics';
import type { ProbeServer } from '../telemetry/server';

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

export interface StuckContext {
  kafka: Kafka;
  config: Config;
  metrics: ReturnType<typeof createMetrics>;
  probe: ProbeServer;
  log: Logger;
  /** Where the consumer's lanes fetch each partition from next. */
  positions: ReadonlyMap<number, bigint>;
  /** The consumer's fetch size per partition. */
  maxBytes: number;
}

/**
 * The consumer cannot move past a batch: find it, report /healthz unhealthy with its topic,
 * partition and offset, set ledgerflow_consumer_undecodable_batch_offset, and resolve (to the error
 * the process exits with) only after consumer.undecodableExitDelayMs, so Prometheus scrapes it.
 */
export async function reportUndecodableBatch(ctx: StuckContext, undecodable: UndecodableBatchError): Promise<LedgerflowError> {
  const { config } = ctx;
  const topic = config.kafka.topic;
  const err = await locateUndecodableBatch(ctx.kafka, topic, config.kafka.groupId, ctx.positions, ctx.maxBytes, undecodable);
  const where = err instanceof UnreadableBatchError ? { topic: err.topic, partition: err.partition, offset: err.offset.toString() } : { topic };
  if (err instanceof UnreadableBatchError) ctx.metrics.undecodableBatch.set({ topic: err.topic, partition: err.partition }, Number(err.offset));
  ctx.probe.setUnhealthy(err.message);
  ctx.log.fatal({ ...where, err: err.message, exitInMs: config.consumer.undecodableExitDelayMs }, 'record batch cannot be decoded; the consumer stops here');
  await new Promise((resolve) => setTimeout(resolve, config.consumer.undecodableExitDelayMs));
  return err;
}
