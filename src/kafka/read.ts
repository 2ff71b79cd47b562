import { randomUUID } from 'node:crypto';
import type { Batch, Kafka, KafkaMessage } from 'kafkajs';
import { LedgerflowError } from '../domain/errors';
import { undecodableCause } from './codecs';
import { VERIFY_GROUP_PREFIX } from './acls';

/** Offsets [from, to) of one partition; `to` is usually the high watermark. */
export interface PartitionRange {
  partition: number;
  from: bigint;
  to: bigint;
}

/**
 * A record batch that cannot be read, and where it is: the consumer cannot move past it, so the
 * operator needs the topic, partition and offset (to inspect it with kafka-dump-log, or to move
 * the group past it deliberately). `offset` is the batch's base offset when its header was
 * readable, otherwise the offset the failing fetch started from.
 */
export class UnreadableBatchError extends LedgerflowError {
  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly offset: bigint,
    /** False when only the fetch's start is known: the batch is at or after `offset`. */
    readonly exact: boolean,
    reason: string,
  ) {
    super('LF_UNDECODABLE_BATCH', `topic ${topic} partition ${partition} ${exact ? 'offset' : 'at or after offset'} ${offset}: ${reason}`, { topic, partition, offset: offset.toString() });
    this.name = 'UnreadableBatchError';
  }
}

export interface ReadOptions {
  /** The whole read ends (with an error naming what is left) after this long. */
  timeoutMs: number;
  /** Bytes per fetch; also what one fetch of a partition returns at most. */
  maxBytes: number;
  /** Stop each partition after its first fetch (to find which fetch fails, not to read it all). */
  firstFetchOnly?: boolean;
}

/**
 * Reads the given ranges with a throw-away consumer group that commits nothing, one partition at a
 * time (the others paused), calling `visit` for every message in range. One partition per fetch
 * is what lets a fetch that cannot be decoded name its partition: kafkajs's decoder does not, and
 * fails the whole fetch. Ends with UnreadableBatchError at the first such batch, or with an
 * LF_VERIFY error when `timeoutMs` runs out; never waits longer.
 */
export async function readPartitions(kafka: Kafka, topic: string, ranges: ReadonlyArray<PartitionRange>, visit: (partition: number, message: KafkaMessage) => void, options: ReadOptions): Promise<void> {
  const queue = ranges.filter((r) => r.to > r.from).sort((a, b) => a.partition - b.partition);
  if (queue.length === 0) return;
  // A throw-away group under the prefix a secured cluster's ACLs grant verify (src/kafka/acls.ts).
  const consumer = kafka.consumer({ groupId: `${VERIFY_GROUP_PREFIX}${randomUUID()}`, maxBytesPerPartition: options.maxBytes, maxBytes: options.maxBytes, retry: { retries: 3 } });
  let current = queue.shift() as PartitionRange;
  let next = current.from;
  let settle!: (err?: Error) => void;
  const done = new Promise<void>((resolve, reject) => (settle = (err) => (err ? reject(err) : resolve())));
  done.catch(() => undefined);

  // Only the current partition is fetched, from where it stands (a rejoin after a restart too).
  const focus = () => {
    consumer.pause([{ topic }]);
    consumer.resume([{ topic, partitions: [current.partition] }]);
    consumer.seek({ topic, partition: current.partition, offset: next.toString() });
  };
  const advance = () => {
    const following = queue.shift();
    if (!following) return settle();
    current = following;
    next = current.from;
    focus();
  };

  consumer.on(consumer.events.GROUP_JOIN, () => focus());
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    const undecodable = undecodableCause(payload.error);
    if (undecodable) {
      const at = undecodable.position?.baseOffset;
      settle(new UnreadableBatchError(topic, current.partition, at ?? next, at !== undefined, undecodable.message));
    } else if (!payload.restart) {
      settle(new UnreadableBatchError(topic, current.partition, next, false, `the consumer stopped: ${payload.error.message}`));
    }
  });
  const eachBatch = async ({ batch }: { batch: Batch }) => {
    if (batch.partition !== current.partition) return;
    for (const message of batch.messages) {
      const offset = BigInt(message.offset);
      if (offset < next) continue; // a compressed batch starts before the offset asked for
      if (offset >= current.to) break;
      visit(batch.partition, message);
      next = offset + 1n;
    }
    const last = BigInt(batch.lastOffset());
    if (last + 1n > next) next = last + 1n;
    if (options.firstFetchOnly || next >= current.to) advance();
  };

  const timer = setTimeout(() => {
    const left = [current, ...queue].map((r) => `${r.partition}@${r === current ? next : r.from}`).join(', ');
    settle(new LedgerflowError('LF_VERIFY', `could not read topic ${topic} within ${options.timeoutMs} ms; partitions left (partition@offset): ${left}`, topic));
  }, options.timeoutMs);
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ autoCommit: false, eachBatch });
    await done;
  } finally {
    clearTimeout(timer);
    await consumer.disconnect().catch(() => undefined);
  }
}
