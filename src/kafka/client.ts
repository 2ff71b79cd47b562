import { Kafka, Partitioners, logLevel, type Admin, type CompressionTypes, type Message, type PartitionMetadata, type Producer } from 'kafkajs';
import type { Config } from '../config';
import type { Logger } from '../telemetry/log';
import { kafkaRecordLevel } from './logLevels';
import { compressionType, registerCodecs } from './codecs';
import { checkBrokerCertificate, explainKafkaStartError, isAuthorizationRefusal, kafkaSasl, kafkaTls } from './security';

// Every Kafka client of the project reads (and writes) all of Kafka's codecs: registered once,
// here, because every process that talks to Kafka goes through this module.
registerCodecs();

/**
 * Shared Kafka plumbing for every process that talks to Kafka (producer, api ingest, consumer,
 * verify). Lives outside the process rooms so none of them imports a sibling.
 */
export function createKafka(config: Config, clientSuffix: string, log?: Logger): Kafka {
  const { kafka } = config;
  const sasl = kafkaSasl(config);
  return new Kafka({
    clientId: `${kafka.clientId}-${clientSuffix}`,
    brokers: kafka.brokers,
    ssl: kafkaTls(config),
    ...(sasl ? { sasl } : {}),
    connectionTimeout: 5_000,
    requestTimeout: 30_000,
    retry: { initialRetryTime: 200, retries: 10, maxRetryTime: 5_000 },
    logLevel: logLevel.WARN,
    logCreator: () => (entry) => {
      log?.[kafkaRecordLevel(entry)]({ kafka: entry.namespace, ...entry.log }, entry.log.message);
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

/** A producer bound to the transactions topic, knowing its partition count (for sendKeyed). */
export interface TopicProducer {
  producer: Producer;
  partitions: number;
  /** kafka.compression: the codec of every batch this producer writes. */
  compression: CompressionTypes;
}

/**
 * Makes sure the topics exist and returns the transactions topic's partition count. The first
 * connection of a process: a refused login, certificate or ACL fails here in one clear line.
 */
export async function ensureTopicsAndPartitions(config: Config, kafka: Kafka, uses: TopicUse = 'both'): Promise<number> {
  await checkBrokerCertificate(config);
  const admin = kafka.admin();
  await admin.connect().catch((err: unknown) => {
    throw explainKafkaStartError(config, err, 'connecting');
  });
  try {
    await ensureTopics(config, admin, uses).catch((err: unknown) => {
      throw explainKafkaStartError(config, err, `making sure topics ${config.kafka.topic} and ${config.kafka.dlqTopic} exist`);
    });
    const metadata = await topicMetadataOnceKnown(admin, config.kafka.topic);
    return metadata.topics[0]?.partitions.length ?? config.kafka.partitions;
  } finally {
    await admin.disconnect();
  }
}

/** How long a process at start waits for a new topic's metadata to reach the broker it asks. */
const TOPIC_METADATA_WAIT_MS = 60_000;

/**
 * The topic's metadata, asked again while the broker answers with a retriable error. Right after a
 * topic is created on a cluster of several brokers, a broker that has not yet received the new
 * metadata answers "This server does not host this topic-partition" (UNKNOWN_TOPIC_OR_PARTITION,
 * retriable); kafkajs's admin passes that through, and a process starting at that moment crashed.
 */
async function topicMetadataOnceKnown(admin: Admin, topic: string): Promise<Awaited<ReturnType<Admin['fetchTopicMetadata']>>> {
  const deadline = Date.now() + TOPIC_METADATA_WAIT_MS;
  for (let delay = 100; ; delay = Math.min(delay * 2, 2_000)) {
    try {
      return await admin.fetchTopicMetadata({ topics: [topic] });
    } catch (err) {
      if (!(err as { retriable?: boolean }).retriable || Date.now() + delay > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

/**
 * What every writing process does at start: make sure the topics exist, then connect an
 * idempotent producer (the producer, the api's ingest, the consumer's DLQ writer).
 */
export async function connectProducerWithTopics(config: Config, kafka: Kafka, uses: TopicUse = 'both'): Promise<TopicProducer> {
  const partitions = await ensureTopicsAndPartitions(config, kafka, uses);
  const producer = createIdempotentProducer(kafka);
  await producer.connect();
  return { producer, partitions, compression: compressionType(config.kafka.compression) };
}

const keyPartitioner = Partitioners.DefaultPartitioner();
const metadataCache = new Map<number, PartitionMetadata[]>();

/** The default partition of a key: murmur2(key), as kafkajs's default and the Java clients choose. */
export function partitionOfKey(key: string, partitions: number): number {
  let partitionMetadata = metadataCache.get(partitions);
  if (!partitionMetadata) {
    partitionMetadata = Array.from({ length: partitions }, (_, i) => ({ partitionId: i, leader: 0, replicas: [0], isr: [0], partitionErrorCode: 0 }) as PartitionMetadata);
    metadataCache.set(partitions, partitionMetadata);
  }
  return keyPartitioner({ topic: '', partitionMetadata, message: { key, value: null } });
}

/**
 * Sends keyed messages with one send() per partition. kafkajs 2.2.4 can resolve a send() that
 * spans partitions without writing the part whose leader moved mid-request (found by the
 * failover test); a single-partition send either succeeds whole or fails. The partition is the
 * default murmur2(key) one, the same as Java clients choose.
 */
export async function sendKeyed(target: TopicProducer, topic: string, messages: ReadonlyArray<Message & { key: string }>): Promise<number[]> {
  const byPartition = new Map<number, Message[]>();
  const partitions: number[] = [];
  for (const message of messages) {
    const partition = partitionOfKey(message.key, target.partitions);
    const list = byPartition.get(partition) ?? [];
    // A literal, not a spread of the message: ~1 µs less per message (docs/decisions/014-cpu-per-event-and-deadlock-safety.md).
    list.push({ key: message.key, value: message.value, headers: message.headers, timestamp: message.timestamp, partition });
    byPartition.set(partition, list);
    partitions.push(partition);
  }
  await Promise.all([...byPartition.values()].map((list) => target.producer.send({ topic, acks: -1, compression: target.compression, messages: list })));
  // The partition of each message, in the given order (for per-partition metrics).
  return partitions;
}

/**
 * Which topics a process needs: 'both', or only the transactions topic (the producer and the api's
 * ingest never write the DLQ). Under ACLs a topic a principal has no rights on looks missing, and
 * creating it is refused: a process that does not need the DLQ then goes on without it.
 */
export type TopicUse = 'both' | 'transactions';

/** Creates the transactions and DLQ topics if missing (idempotent). */
export async function ensureTopics(config: Config, admin: Admin, uses: TopicUse = 'both'): Promise<void> {
  const existing = new Set(await admin.listTopics());
  await createTopics(config, admin, existing, uses === 'both' ? [config.kafka.topic, config.kafka.dlqTopic] : [config.kafka.topic]);
  if (uses === 'transactions') {
    // Created when allowed, so a plaintext stack has its DLQ from the first produce on.
    await createTopics(config, admin, existing, [config.kafka.dlqTopic]).catch((err: unknown) => {
      if (!isAuthorizationRefusal(err)) throw err;
    });
  }
}

async function createTopics(config: Config, admin: Admin, existing: ReadonlySet<string>, names: string[]): Promise<void> {
  const minIsr = String(Math.min(2, config.kafka.replicationFactor));
  const wanted = [
    { topic: config.kafka.topic, numPartitions: config.kafka.partitions, extra: [] },
    // A DLQ copy carries the original event plus headers: it must fit where the original did.
    { topic: config.kafka.dlqTopic, numPartitions: 1, extra: [{ name: 'max.message.bytes', value: String(DLQ_TOPIC_MAX_MESSAGE_BYTES) }] },
  ].filter((t) => names.includes(t.topic) && !existing.has(t.topic));
  if (wanted.length === 0) return;
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: wanted.map(({ extra, ...t }) => ({
        ...t,
        replicationFactor: config.kafka.replicationFactor,
        configEntries: [{ name: 'min.insync.replicas', value: minIsr }, ...extra],
      })),
    });
  } catch (err) {
    // kafkajs's wait for the new topics' leaders gives up on the first "This server does not
    // host this topic-partition" (retriable: the broker asked has not yet applied the creation,
    // seen on a busy machine); the topics exist once their metadata answers.
    if (!(err as { retriable?: boolean }).retriable) throw err;
    for (const t of wanted) await topicMetadataOnceKnown(admin, t.topic).catch(() => Promise.reject(err));
  }
}

/** Twice the broker default (1 MiB) for the source topic. */
export const DLQ_TOPIC_MAX_MESSAGE_BYTES = 2 * 1024 * 1024;
