import type { Config } from '../config';
import { connectProducerWithTopics, createKafka, ensureTopicsAndPartitions } from '../kafka/client';
import { invariant, LedgerflowError } from '../domain/errors';
import type { Logger } from '../telemetry/log';
import { countProduced, createMetrics } from '../telemetry/metrics';
import { startProbeServer } from '../telemetry/server';
import fs from 'node:fs';
import { withProduceSpan } from '../telemetry/trace-context';
import { createGenerator, type GeneratedMessage } from './generator';
import { createLabelledWorkload } from './labelled';
import { pace } from './pace';
import { kafkajsSender, platformaticSender, refuseUnsupportedBroker, type KeyedSender, type ProducerClient } from './senders';

export interface ProduceOptions {
  /** Events per second; 0 means as fast as the broker takes them. */
  ratePerSec: number;
  /** Events to send; 0 means until stopped. */
  count: number;
  accounts: number;
  seed: number;
  malformedRatio: number;
  /** Serve /metrics while producing (off for short in-process runs such as tests). */
  serveMetrics?: boolean;
  /** Called with each chunk once Kafka acknowledged it (chaos runs keep the acknowledged ids). */
  onAcknowledged?: (messages: ReadonlyArray<{ key: string; value: Buffer }>) => void;
  /**
   * The labelled workload (createLabelledWorkload: simulated event time, per-account habits, a
   * share of injected fraud) instead of the default traffic. Labels never go into events; with a
   * labelsPath they go to that side file (JSON lines).
   */
  labelled?: { fraudRate: number; labelsPath?: string };
  /**
   * Generate every event before the first send (needs a count). The benchmark's load generator
   * shares the 2 cores with the pipeline it measures; generating its events up front (~3.4 µs
   * each) keeps that work out of the measured window, as load generators do (Kafka's own
   * producer-perf-test sends a prepared payload). Ids and default-traffic times are those of
   * generation, up to the run's length before the send.
   */
  prepare?: boolean;
  /** The Kafka client that sends (default kafkajs; `platformatic`: the benchmark's load generator, see senders.ts). */
  client?: ProducerClient;
}

/** The labelled workload as generator messages; each fraud label is appended to the side file. */
function labelledMessages(options: ProduceOptions & { labelled: { fraudRate: number; labelsPath?: string } }): () => GeneratedMessage {
  const next = createLabelledWorkload({ seed: options.seed, accounts: options.accounts, fraudRate: options.labelled.fraudRate });
  const labelsPath = options.labelled.labelsPath;
  if (labelsPath) fs.writeFileSync(labelsPath, '');
  return () => {
    const { event, label } = next();
    if (label && labelsPath) fs.appendFileSync(labelsPath, `${JSON.stringify({ id: event.id, pattern: label })}\n`);
    return { key: event.account, value: Buffer.from(JSON.stringify(event)), event };
  };
}

/** Every message generated now; the returned source hands them out in order, once each. */
function prepareAll(generate: () => GeneratedMessage, count: number, log: Logger): () => GeneratedMessage {
  if (!(count > 0)) throw new LedgerflowError('LF_CONFIG', 'preparing the events ahead needs a count', 'count');
  const startedMs = Date.now();
  const prepared: Array<GeneratedMessage | undefined> = [];
  for (let i = 0; i < count; i++) {
    const m = generate();
    // Only what a send needs: the event object would double the memory held.
    prepared.push({ key: m.key, value: m.value, ...(m.malformedKind ? { malformedKind: m.malformedKind } : {}) });
  }
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
  elapsedMs: number;
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
  const generate = options.labelled
    ? labelledMessages({ ...options, labelled: options.labelled })
    : createGenerator({ accounts: options.accounts, seed: options.seed, malformedRatio: options.malformedRatio });
  const next = options.prepare ? prepareAll(generate, options.count, log) : generate;
  // Ready once connected and, with `prepare`, once every event is generated: the benchmark starts its clock here.
  probe?.setReady(true);
  let stopping = false;
  const report: ProduceReport = { sent: 0, malformed: 0, elapsedMs: 0 };
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
      for (let i = 0; i < size; i++) {
        const m = next();
        isMalformed.push(Boolean(m.malformedKind));
        messages.push({ key: m.key, value: m.value });
      }
      const partitions = await sendUntilAcknowledged(messages);
      options.onAcknowledged?.(messages);
      const malformed = isMalformed.filter(Boolean).length;
      report.sent += size;
      report.malformed += malformed;
      countProduced(metrics, config.kafka.topic, partitions, (i) => (isMalformed[i] ? 'malformed' : 'valid'));
    }
    report.elapsedMs = Date.now() - started;
    return report;
  };
  const done = run().finally(async () => {
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
