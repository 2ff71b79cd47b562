import zlib from 'node:zlib';
import type { Kafka } from 'kafkajs';
import type { Config } from '../config';
import { LedgerflowError } from '../domain/errors';
import { createIdempotentProducer, partitionOfKey, sendKeyed, type TopicProducer } from '../kafka/client';

/** @platformatic/kafka writes zstd with node:zlib's zstd, which Node has from 22.15 on. */
export function platformaticWritesZstd(): boolean {
  return typeof (zlib as { zstdCompressSync?: unknown }).zstdCompressSync === 'function';
}


/** One keyed message of the generator, with the trace headers of its send. */
export interface KeyedMessage {
  key: string;
  value: Buffer;
  headers: Record<string, string>;
}

/**
 * What the producer loop sends with: an idempotent producer (acks = all) that writes each
 * message to the default murmur2(key) partition and returns the partitions in order.
 */
export interface KeyedSender {
  send(topic: string, messages: ReadonlyArray<KeyedMessage>): Promise<number[]>;
  /** After a failed send: a fresh producer (kafkajs's idempotent one can fail for good). */
  renew(): Promise<void>;
  close(): Promise<void>;
}

export type ProducerClient = 'kafkajs' | 'platformatic';

/** The product's client for every Kafka write (producer, ingest, DLQ): kafkajs (decision 007). */
export function kafkajsSender(kafka: Kafka, target: TopicProducer): KeyedSender {
  return {
    send: (topic, messages) => sendKeyed(target, topic, messages),
    renew: async () => {
      await target.producer.disconnect().catch(() => undefined);
      target.producer = createIdempotentProducer(kafka);
      await target.producer.connect().catch(() => undefined);
    },
    close: () => target.producer.disconnect(),
  };
}

/** The surface of @platformatic/kafka used here (an ES module, typed locally: this project compiles to CommonJS). */
interface PlatformaticProducer {
  send(options: { messages: Array<{ topic: string; key: Buffer; value: Buffer; partition: number; headers: Record<string, Buffer> }> }): Promise<unknown>;
  close(force?: boolean): Promise<void>;
}
interface PlatformaticKafka {
  Producer: new (options: Record<string, unknown>) => PlatformaticProducer;
}

/** The @platformatic/kafka sender is for plaintext brokers: refused at start, before any connection. */
export function refuseUnsupportedBroker(config: Config): void {
  if (config.kafka.ssl || config.kafka.saslMechanism !== '') {
    throw new LedgerflowError('LF_CONFIG', 'produce --client platformatic is the benchmark load generator for a plaintext broker; use the default client with kafka.ssl or kafka.saslMechanism', 'kafka.ssl');
  }
}

/**
 * The benchmark's load generator only (`produce --client platformatic`, decision 015): on the
 * shared 2-core box its Kafka client competes with the pipeline it loads, and @platformatic/kafka
 * produces at about half the CPU per message of kafkajs (decision 007's bake-off). Same topic,
 * same partition per key (chosen here, the kafkajs default partitioner's), idempotent, acks = all,
 * one send per chunk. It is a development dependency: a production image runs kafkajs only.
 * Plaintext brokers only: the bench's broker listens on loopback.
 */
export async function platformaticSender(config: Config, partitions: number): Promise<KeyedSender> {
  refuseUnsupportedBroker(config);
  let lib: PlatformaticKafka;
  try {
    lib = (await import('@platformatic/kafka')) as unknown as PlatformaticKafka;
  } catch (err) {
    throw new LedgerflowError('LF_CONFIG', `produce --client platformatic needs the development dependency @platformatic/kafka: ${(err as Error).message}`, 'client');
  }
  // Its own codecs (WebAssembly snappy and lz4, zstd from node:zlib where Node has it) write the same formats.
  const compression = config.kafka.compression;
  if (compression === 'zstd' && !platformaticWritesZstd()) {
    throw new LedgerflowError('LF_CONFIG', `produce --client platformatic writes zstd with node:zlib, which Node ${process.version} lacks (22.15 and later have it); use the default client for kafka.compression=zstd`, 'kafka.compression');
  }
  const create = () => new lib.Producer({ bootstrapBrokers: config.kafka.brokers, clientId: `${config.kafka.clientId}-producer`, idempotent: true, acks: -1, autocreateTopics: false, ...(compression === 'none' ? {} : { compression }) });
  let producer = create();
  return {
    send: async (topic, messages) => {
      const out: number[] = new Array(messages.length);
      // A send's messages share one headers object (its trace context): converted once, not per message.
      let source: Record<string, string> | undefined;
      let headers: Record<string, Buffer> = {};
      const batch = messages.map((m, i) => {
        const partition = partitionOfKey(m.key, partitions);
        out[i] = partition;
        if (m.headers !== source) {
          source = m.headers;
          headers = Object.fromEntries(Object.entries(m.headers).map(([name, value]) => [name, Buffer.from(value)]));
        }
        return { topic, key: Buffer.from(m.key), value: m.value, partition, headers };
      });
      await producer.send({ messages: batch });
      return out;
    },
    renew: async () => {
      await producer.close(true).catch(() => undefined);
      producer = create();
    },
    close: () => producer.close(),
  };
}
