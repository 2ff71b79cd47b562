/**
 * Two concurrent batches hold disjoint accounts (Kafka keys accounts to partitions, and two batches
 * never share a partition), so their locking reads of balances and account statistics must not
 * wait on each other. With 1,000 values or more in an IN list MariaDB 10.11 may plan the read as
 * a scan of the whole table, which locks row after row and waits on every row the other batch
 * holds (a half-load batch locks ~2,800 accounts; docs/decisions/015-lock-reads-and-load-generator.md).
 * The reads must stay index ranges.
 * Real MariaDB, two real transactions.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { balanceKey } from '../../src/domain/ledger';
import { emptyStats } from '../../src/domain/fraud/stats';
import { inAccountOrder, lockAccountStats, saveAccountStats } from '../../src/store/fraud';
import { IN_LIST_MAX, lockBalances } from '../../src/store/ledger';
import { createPool, inTransaction, type Connection, type Pool } from '../../src/store/pool';
import { createScratchRun, type ScratchRun } from '../../src/stack/scratch';

let run: ScratchRun;
let pool: Pool;

/**
 * 10,000 accounts; each batch holds 2,700 of them (a half-load batch of the benchmark touches
 * ~2,800), spread over the whole key range and interleaved with the other batch's.
 */
const ACCOUNTS = Array.from({ length: 10_000 }, (_, i) => `lk-${String(i).padStart(5, '0')}`);
const shuffled = ACCOUNTS.map((a, i) => ({ a, k: (i * 7_919) % 10_007 })).sort((x, y) => x.k - y.k).map((x) => x.a);
const even = shuffled.slice(0, 2_700).sort();
const odd = shuffled.slice(2_700, 5_400).sort();

before(async () => {
  run = await createScratchRun('lock-reads', { 'log.level': 'warn' });
  pool = createPool(run.config, 'app', 3);
  await pool.query('INSERT INTO balances (account, currency, balance_minor, version) VALUES ?', [ACCOUNTS.map((a, i) => [a, 'EUR', i, 0])]);
  await pool.query('INSERT INTO balances (account, currency, balance_minor, version) VALUES ?', [ACCOUNTS.filter((_, i) => i % 3 === 0).map((a) => [a, 'USD', 7, 0])]);
  await pool.query('ANALYZE TABLE balances, account_stats');
  await saveAccountStats(pool as never, inAccountOrder(new Map(ACCOUNTS.map((a) => [a, { ...emptyStats(a), txCount: 1 }]))));
});

after(async () => {
  await pool?.end();
  await run?.dispose();
});

/** The session's index-start and table-scan row reads so far. */
async function handlerReads(conn: Connection): Promise<{ Handler_read_first: number; Handler_read_rnd_next: number }> {
  const [rows] = await conn.query("SHOW SESSION STATUS WHERE Variable_name IN ('Handler_read_first', 'Handler_read_rnd_next')");
  const value = (name: string) => Number((rows as Array<{ Variable_name: string; Value: string }>).find((r) => r.Variable_name === name)?.Value ?? NaN);
  return { Handler_read_first: value('Handler_read_first'), Handler_read_rnd_next: value('Handler_read_rnd_next') };
}

test('locking reads of one batch do not wait on the interleaved rows another batch holds', async () => {
  assert.ok(odd.length > IN_LIST_MAX * 2, 'the lists are long enough to need several chunks');
  let release!: () => void;
  const holding = new Promise<void>((resolve) => (release = resolve));
  let locked!: () => void;
  const firstHolds = new Promise<void>((resolve) => (locked = resolve));
  const first = inTransaction(pool, async (conn) => {
    await lockBalances(conn, even.map((a) => balanceKey(a, 'EUR')));
    await lockAccountStats(conn, even);
    locked();
    await holding;
  });
  await firstHolds;
  try {
    const started = Date.now();
    const { balances, stats } = await inTransaction(pool, async (conn) => {
      // A wait would end in ER_LOCK_WAIT_TIMEOUT after 2 s instead of a result.
      await conn.query('SET SESSION innodb_lock_wait_timeout = 2');
      const before = await handlerReads(conn);
      const balances = await lockBalances(conn, odd.flatMap((a) => [balanceKey(a, 'EUR'), balanceKey(a, 'USD')]).sort());
      const stats = await lockAccountStats(conn, odd);
      const reads = await handlerReads(conn);
      await conn.query('SET SESSION innodb_lock_wait_timeout = DEFAULT');
      // Index ranges only: no scan from the first row of an index, no scan of a (materialised) table.
      assert.equal(reads.Handler_read_first - before.Handler_read_first, 0, 'no full index scan');
      assert.equal(reads.Handler_read_rnd_next - before.Handler_read_rnd_next, 0, 'no table scan, no materialised IN list');
      return { balances, stats };
    });
    assert.ok(Date.now() - started < 2_000, 'no lock wait');
    // Every key asked for is read, with its stored balance; a key without a row yet is created at 0.
    assert.equal(balances.size, odd.length * 2);
    for (const account of odd) {
      const i = Number(account.slice(3));
      assert.equal(balances.get(balanceKey(account, 'EUR')), BigInt(i), account);
      assert.equal(balances.get(balanceKey(account, 'USD')), i % 3 === 0 ? 7n : 0n, account);
      assert.equal(stats.get(account)?.txCount, 1, account);
    }
    assert.equal(stats.size, odd.length);
  } finally {
    release();
    await first;
  }
  const [rows] = await pool.query("SELECT COUNT(*) AS n FROM balances WHERE currency = 'USD' AND balance_minor = 0");
  assert.equal(Number((rows as Array<{ n: number }>)[0]?.n), odd.filter((a) => Number(a.slice(3)) % 3 !== 0).length, 'the missing USD rows were created, at 0');
});
