import type { Config } from '../config';
import { contentOf, differingFields } from '../domain/identity';
import { balanceKey } from '../domain/ledger';
import type { TransactionType } from '../domain/transaction';
import { createKafka } from '../kafka/client';
import { recordedConflicts } from '../store/conflicts';
import { createPool, fromDbDateTime, type Pool } from '../store/pool';
import { parkedSources } from '../store/parked';
import { checkDatabase } from '../store/security';
import { checkBrokerCertificate, explainKafkaStartError } from '../kafka/security';
import { allBalances, transactionsInIdOrder } from '../store/queries';
import { reversedTransactionIds } from '../store/reviews';
import type { Logger } from '../telemetry/log';
import { committedOffsets, highWatermarks, readTopicUpTo } from './kafkaRead';
import { TopicIds, type Occurrence } from './topic';

export interface VerifyReport {
  produced: number;
  /** Distinct ids among the valid events (parked-only ones aside). */
  valid: number;
  /** Occurrences of an id with the same content as its stored variant: resends, replays of parked events. */
  duplicateSends: number;
  /** Occurrences of an id with other content than its stored variant (docs/decisions/021). */
  conflicts: number;
  /** Of those, recorded in transaction_conflicts against the stored row, with the fields that differ. */
  conflictsRecorded: number;
  /** Not recorded (or recorded against another row or other fields): not ok. */
  conflictsUnrecorded: number;
  /** Recorded conflicts the topic does not explain: not ok. */
  conflictsUnexpected: number;
  malformed: number;
  stored: number;
  applied: number;
  rejected: number;
  missing: number;
  /**
   * Valid events not stored because the store refused them and they were parked (recorded where
   * an operator sees and replays them: `ledgerflow parked list`); not counted as missing.
   */
  parked: number;
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
  examples: { missing: string[]; duplicated: string[]; contentMismatches: string[]; conflictsUnrecorded: string[]; balanceMismatches: string[]; dlqMissing: string[] };
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

/** Checks every stored row against the topic's winners and sums the applied ones into balances. */
async function checkStoredRows(pool: Pool, topic: TopicIds, report: VerifyReport): Promise<{ seen: Set<string>; sums: Map<string, bigint> }> {
  const seen = new Set<string>();
  const sums = new Map<string, bigint>();
  const add = (key: string, delta: bigint) => sums.set(key, (sums.get(key) ?? 0n) + delta);
  // A transaction rejected in review had its balance effect reversed: it no longer counts in the sums.
  const reversed = await reversedTransactionIds(pool);
  for await (const row of transactionsInIdOrder(pool)) {
    report.stored += 1;
    const winner = topic.winners.get(row.id);
    if (seen.has(row.id) || !winner) {
      report.duplicated += 1;
      if (report.examples.duplicated.length < 5) report.examples.duplicated.push(row.id);
      continue;
    }
    seen.add(row.id);
    // The stored row must be the winning variant (earliest position), field by field.
    const stored = contentOf({
      account: row.account, type: row.type as TransactionType, amountMinor: String(row.amount_minor), currency: row.currency,
      counterparty: row.counterparty ?? undefined, occurredAt: fromDbDateTime(row.occurred_at), description: row.description ?? undefined,
    });
    if (differingFields(stored, contentOf(winner.event)).length > 0) {
      report.contentMismatches += 1;
      if (report.examples.contentMismatches.length < 5) report.examples.contentMismatches.push(row.id);
    }
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
  return { seen, sums };
}

/**
 * Every conflicting occurrence (an id reused with other content) must be recorded where an
 * operator sees it, against the stored row; a recorded conflict the topic does not explain is
 * counted too.
 */
async function checkConflicts(pool: Pool, config: Config, topic: TopicIds, conflicts: ReadonlyMap<string, Occurrence>, report: VerifyReport): Promise<void> {
  const recorded = await recordedConflicts(pool, config.kafka.topic);
  for (const [key, o] of conflicts) {
    const winner = topic.winners.get(o.event.id) as Occurrence;
    const entry = recorded.get(key);
    const fields = differingFields(contentOf(o.event), contentOf(winner.event)).join(',');
    if (entry && entry.stored === `${winner.partition}:${winner.offset}` && entry.fields === fields) report.conflictsRecorded += 1;
    else {
      report.conflictsUnrecorded += 1;
      if (report.examples.conflictsUnrecorded.length < 5) report.examples.conflictsUnrecorded.push(key);
    }
  }
  for (const key of recorded.keys()) if (!conflicts.has(key)) report.conflictsUnexpected += 1;
}

/**
 * Compares what Kafka holds with what the database holds: every valid id stored exactly once as
 * its winning variant (docs/decisions/021), every other variant recorded as a conflict, every
 * malformed event in the DLQ, every parked one recorded, balances equal to the applied sum.
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
  const pool = createPool(config, 'app', 2);
  try {
    const topic = new TopicIds(await parkedSources(pool, config.kafka.topic));
    await readTopicUpTo(kafka, config.kafka.topic, highs, (partition, message) => topic.add(partition, message));
    const dlqSeen = new Set<string>();
    let dlqWithoutReason = 0;
    await readTopicUpTo(kafka, config.kafka.dlqTopic, await highWatermarks(kafka, config.kafka.dlqTopic), (_p, message) => {
      const h = message.headers ?? {};
      if (String(h['lf-source-topic']) !== config.kafka.topic) return;
      dlqSeen.add(`${String(h['lf-source-partition'])}:${String(h['lf-source-offset'])}`);
      if (!h['lf-reason'] || String(h['lf-reason']).length === 0) dlqWithoutReason += 1;
    });
    const { duplicateSends, conflicts } = topic.repeats();
    const report: VerifyReport = {
      produced: topic.produced, valid: topic.winners.size, duplicateSends, conflicts: conflicts.size, conflictsRecorded: 0, conflictsUnrecorded: 0, conflictsUnexpected: 0,
      malformed: topic.malformed.size, stored: 0, applied: 0, rejected: 0, missing: 0, parked: 0, duplicated: 0, contentMismatches: 0,
      dlqFound: 0, dlqMissing: 0, dlqWithoutReason, balanceMismatches: 0, acknowledgedNotInKafka: 0, lag, ok: false,
      examples: { missing: [], duplicated: [], contentMismatches: [], conflictsUnrecorded: [], balanceMismatches: [], dlqMissing: [] },
    };
    const { seen, sums } = await checkStoredRows(pool, topic, report);
    await checkConflicts(pool, config, topic, conflicts, report);
    for (const id of topic.winners.keys()) {
      if (seen.has(id)) continue;
      report.missing += 1;
      if (report.examples.missing.length < 5) report.examples.missing.push(id);
    }
    for (const id of topic.parked.keys()) if (!seen.has(id) && !topic.winners.has(id)) report.parked += 1;
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
    for (const m of topic.malformed) {
      if (dlqSeen.has(m)) report.dlqFound += 1;
      else {
        report.dlqMissing += 1;
        if (report.examples.dlqMissing.length < 5) report.examples.dlqMissing.push(m);
      }
    }
    for (const id of options.acknowledged ?? []) if (!topic.winners.has(id) && !topic.parked.has(id)) report.acknowledgedNotInKafka += 1;
    report.ok = report.lag === 0 && report.missing === 0 && report.duplicated === 0 && report.contentMismatches === 0 && report.conflictsUnrecorded === 0
      && report.conflictsUnexpected === 0 && report.dlqMissing === 0 && report.dlqWithoutReason === 0 && report.balanceMismatches === 0 && report.acknowledgedNotInKafka === 0;
    return report;
  } finally {
    await pool.end();
  }
}
