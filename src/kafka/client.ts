import { Kafka, logLevel, type Admin, type Producer, type SASLOptions } from 'kafkajs';
import type { Config } from '../config';
import type { Logger } from '../telemetry/log';

/**
 * Shared Kafka plumbing for every process that talks to Kafka (producer, api ingest, consumer,
 * verify). Lives outside the process rooms so none of them imports a sibling.
 */
export function createKafka(config: Config, clientSuffix: string, log?: Logger): Kafka {
  const { kafka } = config;
  const sasl: SASLOptions | undefined =
    kafka.saslMechanism === ''
      ? undefined
      : ({ mechanism: kafka.saslMechanism, username: kafka.saslUsername, password: kafka.saslPassword } as SASLOptions);
  return new Kafka({
    clientId: `${kafka.clientId}-${clientSuffix}`,
    brokers: kafka.brokers,
    ssl: kafka.ssl,
    ...(sasl ? { sasl } : {}),
    connectionTimeout: 5_000,
    requestTimeout: 30_000,
    retry: { initialRetryTime: 200, retries: 10, maxRetryTime: 5_000 },
    logLevel: logLevel.WARN,
    logCreator: () => (entry) => {
      log?.warn({ kafka: entry.namespace, ...entry.log }, entry.log.message);
    },
  });
}

/** Idempotent producer with acks=all: broker retries never duplicate or reorder a partition. */
export function createIdempotentProducer(kafka: Kafka): Producer {
  // Unlimited retries: limiting them would void the idempotence guarantee (kafkajs warns too).
  return kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 200, maxRetryTime: 5_000 },
  });
}

/**
 * What every writing process does at start: make sure the topics exist, then connect an
 * idempotent producer (the producer, the api's ingest, the consumer's DLQ writer).
 */
export async function connectProducerWithTopics(config: Config, kafka: Kafka): Promise<Producer> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await ensureTopics(config, admin);
  } finally {
    await admin.disconnect();
  }
  const producer = createIdempotentProducer(kafka);
  await producer.connect();
  return producer;
}

/** Creates the transactions and DLQ topics if missing (idempotent). */
export async function ensureTopics(config: Config, admin: Admin): Promise<void> {
  const existing = new Set(await admin.listTopics());
  const wanted = [
    { topic: config.kafka.topic, numPartitions: config.kafka.partitions },
    { topic: config.kafka.dlqTopic, numPartitions: 1 },
  ].filter((t) => !existing.has(t.topic));
  if (wanted.length === 0) return;
  const minIsr = Math.min(2, config.kafka.replicationFactor);
  await admin.createTopics({
    waitForLeaders: true,
    topics: wanted.map((t) => ({
      ...t,
      replicationFactor: config.kafka.replicationFactor,
      configEntries: [{ name: 'min.insync.replicas', value: String(minIsr) }],
    })),
  });
}
