import type { Config } from '../config';
import { connectProducerWithTopics, createKafka, ensureTopicsAndPartitions } from '../kafka/client';
import { invariant, LedgerflowError } from '../domain/errors';
import type { Logger } from '../telemetry/log';
import { countProduced, createMetrics } from '../telemetry/metrics';
import { startProbeServer } from '../telemetry/server';
import { withProduceSpan } from '../telemetry/trace-context';
import type { FraudLabel } from '../store/fraudLabels';
import { createGenerator, DEFAULT_FRAUD_RATE, type GeneratedMessage } from './generator';
import { createLabelSink } from './labels';
import { trafficPopulation } from './traffic';
import { pace } from './pace';
import { kafkajsSender, platformaticSender, refuseUnsupportedBroker, type KeyedSender, type ProducerClient } from './senders';

export interface ProduceOptions {
  /** Events per second; 0 means as fast as the broker takes them. */
  ratePerSec: number;
  /** Events to send; 0 means until stopped. */
  count: number;
  /** Accounts of the synthetic bank; absent or 0: as many as the rate needs (docs/traffic-model.md). */
  accounts?: number;
  seed: number;
  malformedRatio: number;
  /** Injected fraud share (default DEFAULT_FRAUD_RATE); 0 sends none. */
  fraudRate?: number;
  /**
   * `wall` (default): events occur now. `simulated`: the model's own clock from a fixed start, so
   * a whole workload, account history included, follows from the seed (`fraud eval`, the bench).
   */
  clock?: 'wall' | 'simulated';
  /**
   * A simulated clock's pace, in events per simulated second (default: ratePerSec). `fraud eval`
   * sends at thousands a second the same bank it scores at the model's own pace: at the send
   * rate every account would pay every few simulated seconds, traffic no bank has.
   */
  modelRatePerSec?: number;
  /** Where the fraud labels go (default: the database, as config producer.fraudLabels says). */
  labels?: { database: boolean; file?: string };
  /** Serve /metrics while producing (off for short in-process runs such as tests). */
  serveMetrics?: boolean;
  /** Called with each chunk once Kafka acknowledged it (chaos runs keep the acknowledged ids). */
  onAcknowledged?: (messages: ReadonlyArray<{ key: string; value: Buffer }>) => void;
  /** Called after each acknowledged chunk with the run's totals so far (the demo's progress line). */
  onProgress?: (report: ProduceReport) => void;
  /**
   * Generate every event before the first send (needs a count). The benchmark's load generator
   * shares the 2 cores with the pipeline it measures; generating its events up front (~3.4 µs
   * each) keeps that work out of the measured window, as load generators do (Kafka's own
   * producer-perf-test sends a prepared payload). Ids and wall-clock times are those of
   * generation, up to the run's length before the send.
   */
  prepare?: boolean;
  /** The Kafka client that sends (default kafkajs; `platformatic`: the benchmark's load generator, see senders.ts). */
  client?: ProducerClient;
}

/** A message as the send loop needs it; a labelled one carries its label for the label sink. */
interface OutgoingMessage {
  key: string;
  value: Buffer;
  malformedKind?: string;
  label?: FraudLabel;
}

function outgoing(m: GeneratedMessage): OutgoingMessage {
  if (m.malformedKind) return { key: m.key, value: m.value, malformedKind: m.malformedKind };
  if (!m.label || !m.event) return { key: m.key, value: m.value };
  // Only what a send needs: the event object would double the memory a prepared run holds.
  return { key: m.key, value: m.value, label: { txId: m.event.id, account: m.event.account, pattern: m.label, occurredAt: m.event.occurredAt } };
}

/** Every message generated now; the returned source hands them out in order, once each. */
function prepareAll(generate: () => OutgoingMessage, count: number, log: Logger): () => OutgoingMessage {
  if (!(count > 0)) throw new LedgerflowError('LF_CONFIG', 'preparing the events ahead needs a count', 'count');
  const startedMs = Date.now();
  const prepared: Array<OutgoingMessage | undefined> = [];
  for (let i = 0; i < count; i++) prepared.push(generate());
  log.info({ events: count, ms: Date.now() - startedMs }, 'events prepared');
  let at = 0;
  return () => {
    const m = prepared[at];
    invariant(m !== undefined, 'a prepared producer sends at most its count', String(at));
    prepared[at++] = undefined; // sent messages are garbage now
    return m;
  };
}

export interface ProduceReport {
  sent: number;
  malformed: number;
  /** Well-formed events labelled as injected fraud. */
  fraud: number;
  elapsedMs: number;
  /** The resolved population and seed (for the record: a run is replayed from them). */
  accounts: number;
  seed: number;
}

/** A broker outage longer than about this many attempts (backoff up to 5 s) ends the run. */
const SEND_ATTEMPTS_MAX = 60;

/** Produces a bounded synthetic load; `done` resolves when all `count` events are acknowledged. */
export async function startProducer(config: Config, options: ProduceOptions, log: Logger) {
  if (options.client === 'platformatic') refuseUnsupportedBroker(config);
  const metrics = createMetrics('producer');
  const probe = options.serveMetrics ? await startProbeServer(config.api.host, config.producer.httpPort, metrics.registry) : undefined;
  const kafka = createKafka(config, 'producer', log);
  const sender: KeyedSender =
    options.client === 'platformatic'
      ? await ensureTopicsAndPartitions(config, kafka)
          .then((partitions) => platformaticSender(config, partitions))
          .catch(async (err: unknown) => {
            await probe?.close();
            throw err;
          })
      : kafkajsSender(kafka, await connectProducerWithTopics(config, kafka, 'transactions'));
  const traffic = {
    seed: options.seed,
    malformedRatio: options.malformedRatio,
    fraudRate: options.fraudRate ?? DEFAULT_FRAUD_RATE,
    ratePerSec: options.modelRatePerSec ?? options.ratePerSec,
    clock: options.clock ?? 'wall',
    ...(options.accounts ? { accounts: options.accounts } : {}),
    ...(options.count > 0 ? { count: options.count } : {}),
  } as const;
  const accounts = trafficPopulation(traffic);
  const generator = createGenerator({ ...traffic, accounts });
  const generate = () => outgoing(generator());
  const labels = createLabelSink(config, options.labels ?? { database: config.producer.fraudLabels === 'database' }, log);
  const next = options.prepare ? prepareAll(generate, options.count, log) : generate;
  log.info({ accounts, seed: options.seed, fraudRate: traffic.fraudRate, clock: traffic.clock }, 'traffic model ready');
  // Ready once connected and, with `prepare`, once every event is generated: the benchmark starts its clock here.
  probe?.setReady(true);
  let stopping = false;
  const report: ProduceReport = { sent: 0, malformed: 0, fraud: 0, elapsedMs: 0, accounts, seed: options.seed };
  const started = Date.now();

  /**
   * kafkajs's idempotent producer can fail for good after a leader change (e.g.
   * OUT_OF_ORDER_SEQUENCE_NUMBER). The events already carry their ids, so a fresh producer simply
   * sends the same events again: Kafka may then hold a copy twice, the database stores it once.
   */
  const sendUntilAcknowledged = async (messages: Array<{ key: string; value: Buffer }>): Promise<number[]> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await withProduceSpan(config.kafka.topic, messages.length, (headers) => sender.send(config.kafka.topic, messages.map((m) => ({ key: m.key, value: m.value, headers }))));
      } catch (err) {
        if (stopping || attempt >= SEND_ATTEMPTS_MAX) throw err;
        log.warn({ err: (err as Error).message, attempt }, 'send failed; resending the same events with a fresh producer');
        await sender.renew();
        await new Promise((r) => setTimeout(r, Math.min(5_000, 200 * attempt)));
      }
    }
  };

  const run = async () => {
    const total = options.count > 0 ? options.count : Number.MAX_SAFE_INTEGER;
    let lastSendAtMs = 0;
    while (!stopping && report.sent < total) {
      const nowMs = Date.now();
      const { size, waitMs } = pace({ nowMs, startedMs: started, ratePerSec: options.ratePerSec, sent: report.sent, total, lastSendAtMs });
      if (size === 0) {
        await new Promise((r) => setTimeout(r, waitMs));
        continue;
      }
      lastSendAtMs = nowMs;
      const messages = [];
      const isMalformed: boolean[] = [];
      const chunkLabels: FraudLabel[] = [];
      for (let i = 0; i < size; i++) {
        const m = next();
        isMalformed.push(Boolean(m.malformedKind));
        if (m.label) chunkLabels.push(m.label);
        messages.push({ key: m.key, value: m.value });
      }
      const partitions = await sendUntilAcknowledged(messages);
      labels.add(chunkLabels);
      options.onAcknowledged?.(messages);
      const malformed = isMalformed.filter(Boolean).length;
      report.sent += size;
      report.malformed += malformed;
      report.fraud += chunkLabels.length;
      countProduced(metrics, config.kafka.topic, partitions, (i) => (isMalformed[i] ? 'malformed' : 'valid'));
      options.onProgress?.(report);
    }
    report.elapsedMs = Date.now() - started;
    return report;
  };
  const done = run().finally(async () => {
    await labels.close();
    await sender.close();
    await probe?.close();
  });
  return {
    done,
    stop: async () => {
      stopping = true;
      await done.catch(() => undefined);
    },
  };
}
