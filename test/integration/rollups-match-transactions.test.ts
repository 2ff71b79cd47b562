/**
 * Every rollup grain (minute, day, account-day) equals what `transactions` says, after a real
 * pipeline run (Kafka → Temporal → MariaDB) and after the same batch is applied again, alone and
 * with one new event in it: replays count nothing twice, the new event is counted once.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createActivities } from '../../src/activities';
import { newTransactionId } from '../../src/domain/ids';
import { startProducer } from '../../src/producer';
import { createPool } from '../../src/store/pool';
import { verify } from '../../src/verify';
import { firstBatchOf, startTestPipeline, type RunningPipeline } from '../helpers/pipeline';

const COUNT = 3_000;
let p: RunningPipeline;

before(async () => {
  p = await startTestPipeline('rollups');
});

after(async () => {
  await p?.stop();
});

/** Each grain as rows of strings, from the rollup table and recomputed from transactions. */
const GRAINS = {
  minute: [
    `SELECT DATE_FORMAT(minute, '%Y-%m-%d %H:%i') AS k, type, currency, status, reason, tx_count AS n, amount_minor AS s FROM rollup_minute`,
    `SELECT DATE_FORMAT(occurred_at, '%Y-%m-%d %H:%i') AS k, type, currency, status, COALESCE(reason, '') AS reason, COUNT(*) AS n, SUM(amount_minor) AS s
       FROM transactions GROUP BY k, type, currency, status, reason`,
  ],
  day: [
    `SELECT CAST(day AS CHAR) AS k, type, currency, status, reason, tx_count AS n, amount_minor AS s FROM rollup_day`,
    `SELECT CAST(DATE(occurred_at) AS CHAR) AS k, type, currency, status, COALESCE(reason, '') AS reason, COUNT(*) AS n, SUM(amount_minor) AS s
       FROM transactions GROUP BY k, type, currency, status, reason`,
  ],
  accountDay: [
    `SELECT CONCAT(day, ' ', account) AS k, currency, tx_count AS n, rejected_count AS r, applied_minor AS s FROM rollup_account_day`,
    `SELECT CONCAT(DATE(occurred_at), ' ', account) AS k, currency, COUNT(*) AS n, SUM(status = 'rejected') AS r,
            SUM(CASE WHEN status = 'applied' THEN amount_minor ELSE 0 END) AS s
       FROM transactions GROUP BY k, currency`,
  ],
} as const;

async function rowsOf(sql: string): Promise<string[]> {
  const [rows] = await p.pool.query(sql);
  return (rows as Array<Record<string, unknown>>).map((r) => Object.values(r).map(String).join('|')).sort();
}

async function assertRollupsMatch(when: string): Promise<void> {
  for (const [grain, [rollup, truth]] of Object.entries(GRAINS)) {
    const expected = await rowsOf(truth);
    assert.ok(expected.length > 0, `${when}: transactions has rows`);
    assert.deepEqual(await rowsOf(rollup), expected, `${when}: ${grain} rollup equals transactions`);
  }
}

test(`after ${COUNT} transactions through the pipeline, every rollup grain equals transactions`, { timeout: 300_000 }, async () => {
  const producer = await startProducer(p.env.config, { ratePerSec: 0, count: COUNT, accounts: 200, seed: 5, malformedRatio: 0 }, p.env.log);
  assert.equal((await producer.done).sent, COUNT);
  const report = await verify(p.env.config, { waitMs: 240_000 }, p.env.log);
  assert.equal(report.ok, true, 'pipeline drained, nothing missing or duplicated');
  assert.ok(report.applied > 0 && report.rejected > 0, 'both applied and rejected rows to roll up');
  await assertRollupsMatch('after the run');
});

test('a replayed batch counts nothing twice; a replay with one new event counts only that one', { timeout: 120_000 }, async () => {
  const { input } = await firstBatchOf(p);
  const activities = createActivities({ pool: p.pool, overdraftLimitMinor: BigInt(p.env.config.rules.overdraftLimitMinor) });

  const replay = await activities.applyBatch({ batchId: input.batchId, events: input.events, rejections: {} });
  assert.equal(replay.inserted, 0);
  await assertRollupsMatch('after a replay');

  const first = input.events[0];
  assert.ok(first);
  const fresh = { ...first, id: newTransactionId(), type: 'credit' as const, counterparty: undefined, amountMinor: '777' };
  delete fresh.counterparty;
  const mixed = await activities.applyBatch({ batchId: `${input.batchId}-mixed`, events: [...input.events, fresh], rejections: {} });
  assert.deepEqual([mixed.inserted, mixed.duplicates], [1, input.events.length]);
  await assertRollupsMatch('after a replay with one new event');

  // A worker that has seen no duplicate yet tries a batch without looking its ids up first: the
  // stored ones fail that attempt as a whole, and the batch is applied again with the lookup.
  const unwarned = createActivities({ pool: p.pool, overdraftLimitMinor: BigInt(p.env.config.rules.overdraftLimitMinor) });
  const another = { ...fresh, id: newTransactionId(), amountMinor: '555' };
  const mixedAgain = await unwarned.applyBatch({ batchId: `${input.batchId}-mixed-2`, events: [...input.events.slice(0, 5), another], rejections: {} });
  assert.deepEqual([mixedAgain.inserted, mixedAgain.duplicates], [1, 5]);
  await assertRollupsMatch('after a mixed batch on a worker that had seen no duplicate');
});

test('a balance row a worker has seen, then missing (deleted behind its back), is created by the next batch with the right balance', { timeout: 60_000 }, async () => {
  const activities = createActivities({ pool: p.pool, overdraftLimitMinor: BigInt(p.env.config.rules.overdraftLimitMinor) });
  const { input } = await firstBatchOf(p);
  const account = `cache-${newTransactionId().slice(-12)}`;
  const event = (type: 'credit' | 'debit', amountMinor: string, offset: string) => ({ ...(input.events[0] as (typeof input.events)[0]), id: newTransactionId(), account, type, amountMinor, offset, counterparty: undefined });
  const balanceOf = async () => {
    const [rows] = await p.pool.query('SELECT balance_minor AS b FROM balances WHERE account = ?', [account]);
    return (rows as Array<{ b: string }>).map((r) => BigInt(r.b));
  };
  /** The balance from the account's applied transactions alone (what verify sums). */
  const ledgerSum = async () => {
    const [rows] = await p.pool.query("SELECT COALESCE(SUM(CASE type WHEN 'credit' THEN amount_minor ELSE -amount_minor END), 0) AS s FROM transactions WHERE account = ? AND status = 'applied'", [account]);
    return BigInt((rows as Array<{ s: string }>)[0]?.s ?? '0');
  };
  // The first batches make the worker remember the row and bring it to 0: a zero row means the
  // same as no row, so deleting it (a person might; no statement of ours does) loses no money.
  const sent = [event('credit', '100', '1'), event('debit', '100', '2')];
  for (const [i, e] of sent.entries()) await activities.applyBatch({ batchId: `${account}-${i}`, events: [e], rejections: {} });
  assert.deepEqual(await balanceOf(), [0n]);
  await p.pool.query('DELETE FROM balances WHERE account = ?', [account]).catch(async () => {
    const admin = createPool(p.env.config, 'migrate', 1);
    await admin.query('DELETE FROM balances WHERE account = ?', [account]).finally(() => admin.end());
  });
  assert.deepEqual(await balanceOf(), []);
  const last = event('credit', '40', '3');
  await activities.applyBatch({ batchId: `${account}-2`, events: [last], rejections: {} });
  // Expected from what was sent, each event once: +100 - 100 + 40.
  const expected = [...sent, last].reduce((sum, e) => sum + (e.type === 'credit' ? BigInt(e.amountMinor) : -BigInt(e.amountMinor)), 0n);
  assert.deepEqual(await balanceOf(), [expected], 'the row exists again, with every applied event counted once');
  assert.equal(await ledgerSum(), expected, 'and it equals the sum of the account\'s applied transactions');
});
