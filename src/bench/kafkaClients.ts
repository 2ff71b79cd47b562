import type { Config } from '../config';
import { createKafka } from '../kafka/client';
import { createGenerator } from '../producer/generator';
import { barChart } from './svg';
import { round } from './stats';

/**
 * Kafka client bake-off on the local broker: the same keyed events (the producer's generator),
 * the same chunking (2,000 per send, idempotent, acks=all), the same partitions; produce then
 * consume everything from a fresh group. CPU is process.cpuUsage() over each step, in µs/message.
 */
export interface ClientRun {
  client: string;
  round: number;
  produceMsgPerSec: number;
  produceCpuUsPerMsg: number;
  consumeMsgPerSec: number;
  consumeCpuUsPerMsg: number;
  error?: string;
}

export interface KafkaClientsOptions {
  messages: number;
  rounds: number;
  partitions: number;
  seed: number;
}

export interface KafkaClientsResult {
  messages: number;
  messageBytesAvg: number;
  runs: ClientRun[];
  best: Record<string, Omit<ClientRun, 'round' | 'client'>>;
}

type Msg = { key: Buffer; value: Buffer };
const CHUNK = 2_000;

interface ClientUnderTest {
  name: string;
  produce(topic: string, messages: Msg[]): Promise<void>;
  consume(topic: string, groupId: string, expected: number): Promise<void>;
}

function kafkajsClient(config: Config): ClientUnderTest {
  const kafka = createKafka(config, 'bench-kafkajs');
  return {
    name: 'kafkajs',
    produce: async (topic, messages) => {
      const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
      await producer.connect();
      try {
        for (let i = 0; i < messages.length; i += CHUNK) await producer.send({ topic, acks: -1, messages: messages.slice(i, i + CHUNK) });
      } finally {
        await producer.disconnect();
      }
    },
    consume: async (topic, groupId, expected) => {
      const consumer = kafka.consumer({ groupId, maxBytesPerPartition: 4 << 20, maxWaitTimeInMs: 100 });
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      let seen = 0;
      await new Promise<void>((resolve, reject) => {
        consumer.run({ autoCommit: false, partitionsConsumedConcurrently: 3, eachBatch: async ({ batch }) => {
          seen += batch.messages.length;
          if (seen >= expected) resolve();
        } }).catch(reject);
      });
      await consumer.disconnect();
    },
  };
}

/** The ESM package's surface used here, typed locally (this project compiles to CommonJS). */
interface PlatformaticKafka {
  Producer: new (options: Record<string, unknown>) => { send(o: { messages: Array<Msg & { topic: string }> }): Promise<unknown>; close(force?: boolean): Promise<void> };
  Consumer: new (options: Record<string, unknown>) => {
    consume(o: Record<string, unknown>): Promise<AsyncIterable<unknown> & { close(): Promise<void> }>;
    close(force?: boolean): Promise<void>;
  };
}

async function platformaticClient(config: Config): Promise<ClientUnderTest> {
  const lib = (await import('@platformatic/kafka')) as unknown as PlatformaticKafka;
  const base = { bootstrapBrokers: config.kafka.brokers };
  return {
    name: '@platformatic/kafka',
    produce: async (topic, messages) => {
      const producer = new lib.Producer({ ...base, clientId: 'bench-platformatic', idempotent: true, acks: -1, autocreateTopics: false });
      try {
        for (let i = 0; i < messages.length; i += CHUNK) await producer.send({ messages: messages.slice(i, i + CHUNK).map((m) => ({ ...m, topic })) });
      } finally {
        await producer.close();
      }
    },
    consume: async (topic, groupId, expected) => {
      const consumer = new lib.Consumer({ ...base, clientId: 'bench-platformatic', groupId, maxWaitTime: 100, maxBytesPerPartition: 4 << 20 });
      const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: false });
      let seen = 0;
      for await (const _message of stream) {
        seen += 1;
        if (seen >= expected) break;
      }
      await stream.close().catch(() => undefined);
      await consumer.close(true);
    },
  };
}

async function timed(messages: number, work: () => Promise<void>): Promise<{ perSec: number; cpuUsPerMsg: number }> {
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await work();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  return { perSec: round(messages / seconds, 0), cpuUsPerMsg: round((cpu.user + cpu.system) / messages, 2) };
}

export async function runKafkaClients(config: Config, options: KafkaClientsOptions, log: (line: string) => void): Promise<KafkaClientsResult> {
  const next = createGenerator({ accounts: 10_000, seed: options.seed, malformedRatio: 0 });
  const messages: Msg[] = Array.from({ length: options.messages }, () => {
    const m = next();
    return { key: Buffer.from(m.key), value: m.value };
  });
  const clients: ClientUnderTest[] = [kafkajsClient(config)];
  try {
    clients.push(await platformaticClient(config));
  } catch (err) {
    log(`bench kafka-clients: @platformatic/kafka unavailable: ${(err as Error).message}`);
  }
  const admin = createKafka(config, 'bench-admin').admin();
  await admin.connect();
  const runs: ClientRun[] = [];
  const stamp = Date.now().toString(36);
  try {
    for (let r = 1; r <= options.rounds; r++) {
      // Alternate the order each round, so neither client always runs on a warmer broker.
      const order = r % 2 === 1 ? clients : [...clients].reverse();
      for (const client of order) {
        const topic = `bench-clients-${stamp}-${r}-${client.name.replace(/[^a-z]/g, '')}`;
        await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: options.partitions, replicationFactor: config.kafka.replicationFactor }] });
        try {
          const p = await timed(options.messages, () => client.produce(topic, messages));
          const c = await timed(options.messages, () => client.consume(topic, `${topic}-group`, options.messages));
          runs.push({ client: client.name, round: r, produceMsgPerSec: p.perSec, produceCpuUsPerMsg: p.cpuUsPerMsg, consumeMsgPerSec: c.perSec, consumeCpuUsPerMsg: c.cpuUsPerMsg });
          log(`bench kafka-clients: ${client.name} round ${r}: produce ${p.perSec}/s (${p.cpuUsPerMsg} µs CPU/msg), consume ${c.perSec}/s (${c.cpuUsPerMsg} µs CPU/msg)`);
        } catch (err) {
          runs.push({ client: client.name, round: r, produceMsgPerSec: 0, produceCpuUsPerMsg: 0, consumeMsgPerSec: 0, consumeCpuUsPerMsg: 0, error: (err as Error).message });
          log(`bench kafka-clients: ${client.name} round ${r} failed: ${(err as Error).message}`);
        } finally {
          await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
        }
      }
    }
  } finally {
    await admin.disconnect();
  }
  const best: KafkaClientsResult['best'] = {};
  for (const client of clients) {
    const ok = runs.filter((x) => x.client === client.name && !x.error);
    if (ok.length === 0) continue;
    best[client.name] = {
      produceMsgPerSec: Math.max(...ok.map((x) => x.produceMsgPerSec)),
      produceCpuUsPerMsg: Math.min(...ok.map((x) => x.produceCpuUsPerMsg)),
      consumeMsgPerSec: Math.max(...ok.map((x) => x.consumeMsgPerSec)),
      consumeCpuUsPerMsg: Math.min(...ok.map((x) => x.consumeCpuUsPerMsg)),
    };
  }
  const messageBytesAvg = round(messages.reduce((acc, m) => acc + m.value.length + m.key.length, 0) / messages.length, 0);
  return { messages: options.messages, messageBytesAvg, runs, best };
}

export function kafkaClientsChart(r: KafkaClientsResult): string {
  const names = Object.keys(r.best);
  return barChart(`Kafka clients, ${r.messages} messages of ~${r.messageBytesAvg} B (best of rounds)`, 'messages/s', ['produce', 'consume'], names.map((name) => ({
    name,
    values: [r.best[name]?.produceMsgPerSec ?? 0, r.best[name]?.consumeMsgPerSec ?? 0],
  })));
}
