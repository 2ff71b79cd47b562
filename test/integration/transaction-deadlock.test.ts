/**
 * A deadlock rolls a whole MariaDB transaction back at once. Statements that inTransaction's
 * `work` had already queued behind the failed one must not outlive it: with the session's
 * autocommit on, MariaDB ran them as their own committed transactions (found by a probe on
 * 10.11 while pipelining the batch's writes; docs/decisions/014-cpu-per-event-and-deadlock-safety.md). Real MariaDB, two real transactions.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createPool, inTransaction, type Connection, type Pool } from '../../src/store/pool';
import { createScratchRun, type ScratchRun } from '../../src/stack/scratch';

let run: ScratchRun;
let pool: Pool;

before(async () => {
  run = await createScratchRun('tx-deadlock', { 'log.level': 'warn' });
  pool = createPool(run.config, 'app', 3);
  await pool.query("INSERT INTO balances (account, currency, balance_minor, version) VALUES ('dl-a', 'EUR', 0, 0), ('dl-b', 'EUR', 0, 0)");
});

after(async () => {
  await pool?.end();
  await run?.dispose();
});

const touch = (conn: Connection, account: string) => conn.query("UPDATE balances SET version = version + 1 WHERE account = ? AND currency = 'EUR'", [account]);
const marker = (conn: Connection, name: string) => conn.query("INSERT INTO balances (account, currency, balance_minor, version) VALUES (?, 'EUR', 0, 0)", [name]);

test('statements queued behind a deadlocked one are rolled back with it, and the pool connection is in autocommit again', async () => {
  let bothLocked!: () => void;
  const locked = new Promise<void>((resolve) => (bothLocked = resolve));
  let holders = 0;
  const held = () => (++holders === 2 ? bothLocked() : undefined);
  // Each locks its first row, then (both holding one) asks for the other's with a marker row
  // queued right behind: one of them is the deadlock victim.
  const side = (first: string, second: string, name: string, delayMs: number) =>
    inTransaction(pool, async (conn) => {
      await touch(conn, first);
      held();
      await locked;
      await new Promise((r) => setTimeout(r, delayMs));
      await Promise.all([touch(conn, second), marker(conn, name)]);
    });
  const outcomes = await Promise.allSettled([side('dl-a', 'dl-b', 'dl-marker-1', 0), side('dl-b', 'dl-a', 'dl-marker-2', 300)]);
  const failed = outcomes.flatMap((o, i) => (o.status === 'rejected' ? [i + 1] : []));
  assert.equal(failed.length, 1, `exactly one deadlock victim: ${JSON.stringify(outcomes.map((o) => o.status))}`);
  const reason = (outcomes[(failed[0] as number) - 1] as PromiseRejectedResult).reason as { errno?: number };
  assert.equal(reason.errno, 1213, 'the victim failed with ER_LOCK_DEADLOCK');
  const [rows] = await pool.query("SELECT account FROM balances WHERE account LIKE 'dl-marker-%' ORDER BY account");
  const survivors = (rows as Array<{ account: string }>).map((r) => r.account);
  assert.deepEqual(survivors, [`dl-marker-${failed[0] === 1 ? 2 : 1}`], "only the winner's marker is stored");
  // Every pooled connection commits a plain statement on its own again.
  for (let i = 0; i < 3; i++) {
    const conn = await pool.getConnection();
    const [[state]] = (await conn.query('SELECT @@autocommit AS autocommit')) as unknown as [[{ autocommit: number }]];
    conn.release();
    assert.equal(Number(state.autocommit), 1);
  }
});
