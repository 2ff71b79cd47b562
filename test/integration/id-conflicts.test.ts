/**
 * One id, one payment (docs/decisions/021-one-id-one-payment.md), on real Kafka, Temporal and
 * MariaDB: two events with one id and other content, on the same key (in one batch and across
 * batches) and on different keys (the later-applied one from an earlier position supersedes the
 * stored one, its transfer reversed in the same transaction) → one stored, one conflict recorded
 * with the fields that differ, the metric counted, verify reporting the conflicts; the same topic
 * replayed into an empty store stores the same variants, conflicts, balances and rollups.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { newTransactionId } from '../../src/domain/ids';
import { partitionOfKey } from '../../src/kafka/client';
import { createScratchRun, type ScratchRun } from '../../src/stack/scratch';
import { listConflicts } from '../../src/store/conflicts';
import { createPool, type Pool } from '../../src/store/pool';
import { allBalances } from '../../src/store/queries';
import { createLogger } from '../../src/telemetry/log';
import { verify } from '../../src/verify';
import { startConsumer } from '../../src/consumer';
import { startWorker } from '../../src/worker';
import { freePort, produceKeyed, scrapeMetric } from '../helpers/batches';
import { startTestPipeline, type RunningPipeline } from '../helpers/pipeline';

let p: RunningPipeline;
let workerPort: number;

before(async () => {
  workerPort = await freePort();
  p = await startTestPipeline('conflicts', { 'worker.httpPort': workerPort, 'consumer.lingerMs': 50 });
});

after(async () => {
  await p?.stop();
});

const at = '2026-12-02T10:00:00.000Z';
const message = (e: Record<string, string>) => ({ key: e.account as string, value: JSON.stringify(e) });
const credit = (id: string, account: string, amountMinor: string) => ({ id, account, type: 'credit', amountMinor, currency: 'EUR', occurredAt: at });

/** An account of this run whose key lands on the given partition. */
function accountOn(partition: number, tag: string): string {
  for (let i = 0; ; i++) {
    const account = `${tag}-${p.env.runId}-${i}`;
    if (partitionOfKey(account, p.env.config.kafka.partitions) === partition) return account;
  }
}

async function waitStored(pool: Pool, id: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const [rows] = await pool.query('SELECT 1 FROM transactions WHERE id = ?', [id]);
    if ((rows as unknown[]).length > 0) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`transaction ${id} not stored within 60 s`);
}

async function storedRow(pool: Pool, id: string): Promise<Record<string, string>> {
  const [rows] = await pool.query('SELECT account, type, amount_minor, status, source_partition, source_offset FROM transactions WHERE id = ?', [id]);
  return (rows as Array<Record<string, string>>)[0] as Record<string, string>;
}

/** What must come out the same from any order of application: rows, conflicts, balances, rollups. */
async function ledgerOf(pool: Pool, topic: string) {
  const [rows] = await pool.query('SELECT id, account, counterparty, type, amount_minor, currency, status, reason, source_partition, source_offset FROM transactions ORDER BY id');
  const conflicts = (await listConflicts(pool, topic, { limit: 1000 })).items
    .map((c) => `${c.txId}@${c.variant.partition}:${c.variant.offset} vs ${c.stored.partition}:${c.stored.offset} [${c.fields.join(',')}] ${JSON.stringify(c.variant.content)}`)
    .sort();
  // A zero balance row means the same as none (a supersession locks, and so creates, the rows it reverses).
  const balances = (await allBalances(pool)).filter((b) => BigInt(b.balance_minor) !== 0n).map((b) => `${b.account}/${b.currency}:${b.balance_minor}`).sort();
  const [days] = await pool.query('SELECT day, type, currency, status, reason, tx_count, amount_minor FROM rollup_day WHERE tx_count <> 0 ORDER BY day, type, currency, status, reason');
  const [accountDays] = await pool.query('SELECT day, currency, account, tx_count, rejected_count, applied_minor FROM rollup_account_day WHERE tx_count <> 0 ORDER BY day, currency, account');
  return { rows: JSON.stringify(rows), conflicts, balances, days: JSON.stringify(days), accountDays: JSON.stringify(accountDays) };
}

/** Rollups recomputed from transactions, as the rollups test does: every grain must agree after a supersession. */
async function assertRollupsMatchTransactions(pool: Pool): Promise<void> {
  const [fromRollup] = await pool.query("SELECT type, status, reason, SUM(tx_count) AS n, SUM(amount_minor) AS s FROM rollup_day GROUP BY type, status, reason HAVING n <> 0 ORDER BY type, status, reason");
  const [fromRows] = await pool.query("SELECT type, status, COALESCE(reason, '') AS reason, COUNT(*) AS n, SUM(amount_minor) AS s FROM transactions GROUP BY type, status, reason ORDER BY type, status, reason");
  assert.deepEqual(JSON.stringify(fromRollup), JSON.stringify(fromRows));
  const [accountDays] = await pool.query(
    `SELECT r.account FROM rollup_account_day r LEFT JOIN (
       SELECT account, COUNT(*) AS n, SUM(CASE WHEN status = 'applied' THEN amount_minor ELSE 0 END) AS s FROM transactions GROUP BY account
     ) t ON t.account = r.account WHERE r.tx_count <> COALESCE(t.n, 0) OR r.applied_minor <> COALESCE(t.s, 0)`,
  );
  assert.deepEqual(accountDays, [], 'account-day rollups equal transactions');
}

test('one id with other content on the same key, in one batch and across batches: the first stored, the second recorded as a conflict with its fields', { timeout: 240_000 }, async () => {
  const account = accountOn(1, 'same');
  const [x, z] = [newTransactionId(), newTransactionId()];
  const secondX = message({ ...credit(x, account, '999'), description: 'a second payment under the same id' });
  await produceKeyed(p.env.config, [message(credit(x, account, '100')), secondX]);
  await produceKeyed(p.env.config, [message(credit(z, account, '10'))]);
  await waitStored(p.pool, z);
  const secondZ = message(credit(z, account, '20'));
  await produceKeyed(p.env.config, [secondZ]);

  const report = await verify(p.env.config, { waitMs: 120_000 }, p.env.log);
  assert.equal(report.ok, true, JSON.stringify(report));
  assert.deepEqual([report.conflicts, report.conflictsRecorded, report.duplicateSends], [2, 2, 0]);
  assert.equal((await storedRow(p.pool, x)).amount_minor, '100');
  assert.equal((await storedRow(p.pool, z)).amount_minor, '10');
  const { items } = await listConflicts(p.pool, p.env.config.kafka.topic, { limit: 10 });
  const byId = new Map(items.map((c) => [c.txId, c]));
  assert.deepEqual(byId.get(x)?.fields, ['amountMinor', 'description']);
  assert.deepEqual(byId.get(z)?.fields, ['amountMinor']);
  assert.equal(byId.get(x)?.payload, secondX.value, 'the conflicting message as produced');
  assert.equal(byId.get(z)?.payload, secondZ.value);
  assert.deepEqual([byId.get(x)?.outcome, byId.get(z)?.outcome], ['arrived_later', 'arrived_later']);
  const stored = await storedRow(p.pool, x);
  assert.deepEqual([byId.get(x)?.stored.partition, byId.get(x)?.stored.offset], [Number(stored.source_partition), String(stored.source_offset)]);
  assert.equal(await scrapeMetric(workerPort, 'ledgerflow_id_conflicts_total', { outcome: 'arrived_later' }), 2);
});

test('one id on two keys: the variant from the earlier partition is stored even when applied last (the stored transfer reversed in one transaction)', { timeout: 240_000 }, async () => {
  const [low, high] = [0, p.env.config.kafka.partitions - 1];
  const sender = accountOn(high, 'sender');
  const receiver = accountOn(1, 'receiver');
  const winner = accountOn(low, 'winner');
  const y = newTransactionId();
  // The later position (highest partition) first: funded, stored, its credit pending for the receiver.
  const funding = credit(newTransactionId(), sender, '1000');
  const loser = { id: y, account: sender, type: 'transfer', amountMinor: '300', currency: 'EUR', counterparty: receiver, occurredAt: at };
  await produceKeyed(p.env.config, [message(funding), message(loser)]);
  await waitStored(p.pool, y);
  assert.equal((await storedRow(p.pool, y)).account, sender);
  // The earlier position arrives later: it supersedes.
  await produceKeyed(p.env.config, [message(credit(y, winner, '70'))]);

  const report = await verify(p.env.config, { waitMs: 120_000 }, p.env.log);
  assert.equal(report.ok, true, JSON.stringify(report));
  assert.deepEqual([report.conflicts, report.conflictsRecorded], [3, 3]);
  const stored = await storedRow(p.pool, y);
  assert.deepEqual([stored.account, stored.type, stored.amount_minor, stored.status, Number(stored.source_partition)], [winner, 'credit', '70', 'applied', low]);
  const balances = new Map((await allBalances(p.pool)).map((b) => [b.account, b.balance_minor]));
  assert.deepEqual([balances.get(sender), balances.get(receiver) ?? '0', balances.get(winner)], ['1000', '0', '70'], 'the transfer reversed, the credit applied');
  const conflict = (await listConflicts(p.pool, p.env.config.kafka.topic, { limit: 10 })).items.find((c) => c.txId === y);
  assert.deepEqual([conflict?.outcome, conflict?.variant.partition, conflict?.stored.partition, conflict?.fields], ['superseded', high, low, ['account', 'type', 'amountMinor', 'counterparty']]);
  assert.equal(conflict?.variant.content.amountMinor, '300');
  await assertRollupsMatchTransactions(p.pool);
  assert.equal(await scrapeMetric(workerPort, 'ledgerflow_id_conflicts_total', { outcome: 'superseded' }), 1);
});

test('the same topic replayed into an empty store stores the same variants, conflicts, balances and rollups', { timeout: 300_000 }, async () => {
  const topic = p.env.config.kafka.topic;
  let replay: ScratchRun | undefined;
  let pool: Pool | undefined;
  const stops: Array<() => Promise<void>> = [];
  try {
    replay = await createScratchRun('conflicts-replay', {
      'kafka.topic': topic,
      'kafka.dlqTopic': p.env.config.kafka.dlqTopic,
      'consumer.httpPort': 0,
      'worker.httpPort': 0,
      'worker.sdkMetricsPort': 0,
      'log.level': 'warn',
      'fraud.reviewEnabled': false,
      // One batch at a time, over every partition with events: the earlier variant now comes first
      // (in the same batch), the order the first run did not see.
      'consumer.batchesInFlight': 1,
    });
    const log = createLogger('warn', 'conflicts-replay');
    const worker = await startWorker(replay.config, log);
    stops.push(worker.stop);
    const consumer = await startConsumer(replay.config, log);
    stops.unshift(consumer.stop);
    const report = await verify(replay.config, { waitMs: 180_000 }, log);
    assert.equal(report.ok, true, JSON.stringify(report));
    assert.equal(report.conflicts, 3);
    pool = createPool(replay.config, 'app', 1);
    assert.deepEqual(await ledgerOf(pool, topic), await ledgerOf(p.pool, topic));
  } finally {
    for (const stop of stops) await stop();
    await pool?.end();
    // The topic is the first run's: only the replay's database, group and task queue go.
    if (replay) {
      const admin = createPool(replay.config, 'migrate', 1);
      await admin.query('DROP DATABASE IF EXISTS ??', [replay.config.db.name]).finally(() => admin.end());
    }
  }
});
