import type { Config } from '../config';
import { balanceKey } from '../domain/ledger';
import { parseEvent, type SourcedEvent, type TransactionEvent } from '../domain/transaction';
import { createKafka } from '../kafka/client';
import { createPool } from '../store/pool';
import { checkDatabase } from '../store/security';
import { checkBrokerCertificate, explainKafkaStartError } from '../kafka/security';
import { allBalances, transactionsInIdOrder } from '../store/queries';
import { reversedTransactionIds } from '../store/reviews';
import type { Logger } from '../telemetry/log';
import { committedOffsets, highWatermarks, readTopicUpTo } from './kafkaRead';

export interface VerifyReport {
  produced: number;
  valid: number;
  duplicateSends: number;
  malformed: number;
  stored: number;
  applied: number;
  rejected: number;
  missing: number;
  duplicated: number;
  contentMismatches: number;
  dlqFound: number;
  dlqMissing: number;
  /** DLQ entries of this topic lacking a reason header. */
  dlqWithoutReason: number;
  balanceMismatches: number;
  /** Ids the producer saw acknowledged that the topic does not hold (only when they were given). */
  acknowledgedNotInKafka: number;
  lag: number;
  ok: boolean;
  examples: { missing: string[]; duplicated: string[]; balanceMismatches: string[]; dlqMissing: string[] };
}

/** Waits until the consumer group has committed everything produced so far (or the time is up). */
async function waitForDrain(config: Config, kafka: ReturnType<typeof createKafka>, waitMs: number): Promise<number> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const highs = await highWatermarks(kafka, config.kafka.topic);
    const committed = await committedOffsets(kafka, config.kafka.groupId, config.kafka.topic);
    let lag = 0n;
    for (const [p, high] of highs) lag += high - ((committed.get(p) ?? -1n) < 0n ? 0n : (committed.get(p) as bigint));
    if (lag === 0n || Date.now() >= deadline) return Number(lag);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/**
 * Compares what Kafka holds with what the database holds: every valid event stored exactly once
 * with the same content, every malformed one in the DLQ, balances equal to the applied sum.
 */
export async function verify(config: Config, options: { waitMs: number; acknowledged?: Iterable<string> }, log: Logger): Promise<VerifyReport> {
  // Both dependencies answer with these credentials before anything is read: one clear line if not.
  const checkPool = createPool(config, 'app', 1);
  await checkDatabase(checkPool, config, 'app').finally(() => checkPool.end());
  await checkBrokerCertificate(config);
  const kafka = createKafka(config, 'verify', log);
  const lag = await waitForDrain(config, kafka, options.waitMs).catch((err: unknown) => {
    throw explainKafkaStartError(config, err, `reading the offsets of ${config.kafka.topic} and group ${config.kafka.groupId}`);
  });
  const highs = await highWatermarks(kafka, config.kafka.topic);
  const expected = new Map<string, TransactionEvent>();
  // Ids sent more than once: every occurrence by "partition:offset". The stored row may come from
  // any of them (partitions are applied concurrently), so it is checked against its own source.
  const resent = new Map<string, Map<string, TransactionEvent>>();
  const malformed = new Set<string>();
  let produced = 0;
  let duplicateSends = 0;
  await readTopicUpTo(kafka, config.kafka.topic, highs, (partition, message) => {
    produced += 1;
    const at = `${partition}:${message.offset}`;
    const parsed = parseEvent(message.value);
    if (!parsed.ok) {
      malformed.add(at);
      return;
    }
    const first = expected.get(parsed.event.id);
    if (!first) {
      expected.set(parsed.event.id, { ...parsed.event, partition, offset: message.offset } as TransactionEvent);
      return;
    }
    duplicateSends += 1;
    const variants = resent.get(parsed.event.id) ?? new Map([[`${(first as SourcedEvent).partition}:${(first as SourcedEvent).offset}`, first]]);
    variants.set(at, parsed.event);
    resent.set(parsed.event.id, variants);
  });
  const dlqSeen = new Set<string>();
  let dlqWithoutReason = 0;
  await readTopicUpTo(kafka, config.kafka.dlqTopic, await highWatermarks(kafka, config.kafka.dlqTopic), (_p, message) => {
    const h = message.headers ?? {};
    if (String(h['lf-source-topic']) !== config.kafka.topic) return;
    dlqSeen.add(`${String(h['lf-source-partition'])}:${String(h['lf-source-offset'])}`);
    if (!h['lf-reason'] || String(h['lf-reason']).length === 0) dlqWithoutReason += 1;
  });

  const pool = createPool(config, 'app', 2);
  const report: VerifyReport = {
    produced, valid: expected.size, duplicateSends, malformed: malformed.size, stored: 0, applied: 0, rejected: 0,
    missing: 0, duplicated: 0, contentMismatches: 0, dlqFound: 0, dlqMissing: 0, dlqWithoutReason, balanceMismatches: 0, acknowledgedNotInKafka: 0, lag, ok: false,
    examples: { missing: [], duplicated: [], balanceMismatches: [], dlqMissing: [] },
  };
  try {
    const seen = new Set<string>();
    const sums = new Map<string, bigint>();
    const add = (key: string, delta: bigint) => sums.set(key, (sums.get(key) ?? 0n) + delta);
    // A transaction rejected in review had its balance effect reversed: it no longer counts in the sums.
    const reversed = await reversedTransactionIds(pool);
    for await (const row of transactionsInIdOrder(pool)) {
      report.stored += 1;
      const event = resent.get(row.id)?.get(`${row.source_partition}:${row.source_offset}`) ?? expected.get(row.id);
      if (seen.has(row.id) || !event) {
        report.duplicated += 1;
        if (report.examples.duplicated.length < 5) report.examples.duplicated.push(row.id);
        continue;
      }
      seen.add(row.id);
      const same = event.account === row.account && event.type === row.type && event.amountMinor === String(row.amount_minor)
        && event.currency === row.currency && (event.counterparty ?? null) === row.counterparty;
      if (!same) report.contentMismatches += 1;
      if (row.status !== 'applied') {
        report.rejected += 1;
        continue;
      }
      report.applied += 1;
      if (reversed.has(row.id)) continue;
      const amount = BigInt(row.amount_minor);
      add(balanceKey(row.account, row.currency), row.type === 'credit' ? amount : -amount);
      if (row.type === 'transfer' && row.counterparty) add(balanceKey(row.counterparty, row.currency), amount);
    }
    for (const id of expected.keys()) {
      if (seen.has(id)) continue;
      report.missing += 1;
      if (report.examples.missing.length < 5) report.examples.missing.push(id);
    }
    const balanceKeys = new Set<string>();
    for (const b of await allBalances(pool)) {
      const key = balanceKey(b.account, b.currency);
      balanceKeys.add(key);
      if ((sums.get(key) ?? 0n) !== BigInt(b.balance_minor)) {
        report.balanceMismatches += 1;
        if (report.examples.balanceMismatches.length < 5) report.examples.balanceMismatches.push(`${b.account}/${b.currency}: stored ${b.balance_minor}, sum ${sums.get(key) ?? 0n}`);
      }
    }
    for (const [key, sum] of sums) if (!balanceKeys.has(key) && sum !== 0n) report.balanceMismatches += 1;
    for (const m of malformed) {
      if (dlqSeen.has(m)) report.dlqFound += 1;
      else {
        report.dlqMissing += 1;
        if (report.examples.dlqMissing.length < 5) report.examples.dlqMissing.push(m);
      }
    }
  } finally {
    await pool.end();
  }
  for (const id of options.acknowledged ?? []) if (!expected.has(id)) report.acknowledgedNotInKafka += 1;
  report.ok = report.lag === 0 && report.missing === 0 && report.duplicated === 0 && report.contentMismatches === 0
    && report.dlqMissing === 0 && report.dlqWithoutReason === 0 && report.balanceMismatches === 0 && report.acknowledgedNotInKafka === 0;
  return report;
}
