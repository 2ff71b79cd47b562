/**
 * The batch's rows go in by LOAD DATA LOCAL (src/store/load.ts), against the real MariaDB: every
 * value comes back exactly as sent, and a row the server would skip or change (a duplicate, a
 * failed CHECK) fails the transaction instead of vanishing with a warning.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { newTransactionId } from '../../src/domain/ids';
import type { Decision } from '../../src/domain/ledger';
import { insertTransactions } from '../../src/store/ledger';
import { loadRowsExactly, LoadShortfallError, type TsvValue } from '../../src/store/load';
import { createPool, inTransaction, type Pool } from '../../src/store/pool';
import { createScratchRun, type ScratchRun } from '../../src/stack/scratch';

let run: ScratchRun;
let pool: Pool;

before(async () => {
  run = await createScratchRun('store-load', { 'log.level': 'warn' });
  pool = createPool(run.config, 'app', 2);
});

after(async () => {
  await pool?.end();
  await run?.dispose();
});

function row(id: string, overrides: { counterparty?: string | null; amount?: string; description?: string | null; reason?: string | null } = {}): TsvValue[] {
  return [id, 'acc-load', overrides.counterparty === undefined ? null : overrides.counterparty, 'transfer', overrides.amount ?? '1250', 'EUR', 'applied', overrides.reason ?? null, overrides.description === undefined ? 'plain' : overrides.description, '2026-03-01 10:00:00.123', 0, '7', 'load-test'];
}

async function countOf(ids: string[]): Promise<number> {
  const [rows] = await pool.query('SELECT COUNT(*) AS n FROM transactions WHERE id IN (?)', [ids]);
  return Number((rows as Array<{ n: number }>)[0]?.n);
}

test('every value comes back exactly as sent, separators, backslashes, NULL look-alikes and non-ASCII included', async () => {
  const descriptions = ['tab\there', 'line\nbreak', 'back\\slash', '\\N', 'N', '', 'carriage\rreturn', 'quote\'s "double"', 'zażółć 💸 ✓', '\\t literal', 'trailing backslash\\'];
  const rows = descriptions.map((d, i) => row(newTransactionId(), { description: d, counterparty: i % 2 === 0 ? `acc-cp-${i}` : null, amount: String(9_007_199_254_740_993n + BigInt(i)) }));
  rows.push(row(newTransactionId(), { description: null, reason: 'insufficient_funds' }));
  await inTransaction(pool, (conn) => loadRowsExactly(conn, 'transactions', rows));
  const [stored] = await pool.query('SELECT id, counterparty, CAST(amount_minor AS CHAR) AS amount, reason, description, DATE_FORMAT(occurred_at, "%Y-%m-%d %H:%i:%s.%f") AS at FROM transactions WHERE id IN (?)', [rows.map((r) => r[0])]);
  const byId = new Map((stored as Array<{ id: string; counterparty: string | null; amount: string; reason: string | null; description: string | null; at: string }>).map((r) => [r.id, r]));
  assert.equal(byId.size, rows.length);
  for (const r of rows) {
    const s = byId.get(r[0] as string);
    assert.ok(s);
    assert.equal(s.description, r[8], `description ${JSON.stringify(r[8])}`);
    assert.equal(s.counterparty, r[2]);
    assert.equal(s.amount, r[4], 'BIGINT beyond 2^53 exact');
    assert.equal(s.reason, r[7]);
    assert.equal(s.at, '2026-03-01 10:00:00.123000');
  }
});

test('a duplicate id fails the transaction like the INSERT did (ER_DUP_ENTRY), and nothing of it is stored', async () => {
  const existing = newTransactionId();
  await inTransaction(pool, (conn) => loadRowsExactly(conn, 'transactions', [row(existing)]));
  const fresh = [newTransactionId(), newTransactionId()];
  await assert.rejects(
    inTransaction(pool, (conn) => loadRowsExactly(conn, 'transactions', [row(fresh[0] as string), row(existing), row(fresh[1] as string)])),
    (err: unknown) => err instanceof LoadShortfallError && err.errno === 1062 && /2 of 3 rows stored/.test(err.message),
  );
  assert.equal(await countOf(fresh), 0, 'rolled back');
  assert.equal(await countOf([existing]), 1);
});

test('a row the CHECK constraint refuses (amount 0) fails the transaction with the CHECK\'s code (4025) instead of being skipped with a warning', async () => {
  const ids = [newTransactionId(), newTransactionId()];
  await assert.rejects(
    inTransaction(pool, (conn) => loadRowsExactly(conn, 'transactions', [row(ids[0] as string), row(ids[1] as string, { amount: '0' })])),
    (err: unknown) => err instanceof LoadShortfallError && err.errno === 4025 && /ck_amount_positive|CHECK/i.test(err.message),
  );
  assert.equal(await countOf(ids), 0);
});

test('both row writes (load for MariaDB, insert for SingleStore) store the same rows, and both refuse a duplicate', async () => {
  const decisionsOf = (tag: string): Decision[] =>
    ['plain', 'tab\there', 'back\\slash \\N'].map((description, i) => ({
      event: { id: newTransactionId(), account: `acc-${tag}`, type: 'transfer', counterparty: i === 0 ? undefined : 'acc-cp', amountMinor: String(100 + i), currency: 'EUR', description, occurredAt: '2026-03-01T10:00:00.123Z', partition: 2, offset: String(40 + i) },
      status: i === 2 ? 'rejected' : 'applied',
      reason: i === 2 ? 'insufficient_funds' : null,
    }));
  const stored = async (tag: string) => {
    const [rows] = await pool.query('SELECT counterparty, type, amount_minor, currency, status, reason, description, occurred_at, source_partition, source_offset, batch_id FROM transactions WHERE account = ? ORDER BY source_offset', [`acc-${tag}`]);
    return JSON.stringify(rows);
  };
  const byLoad = decisionsOf('w1');
  const byInsert = decisionsOf('w2');
  await inTransaction(pool, (conn) => insertTransactions(conn, 'batch-w', byLoad, 'load'));
  await inTransaction(pool, (conn) => insertTransactions(conn, 'batch-w', byInsert, 'insert'));
  assert.equal(await stored('w1'), await stored('w2'));
  for (const write of ['load', 'insert'] as const) {
    await assert.rejects(
      inTransaction(pool, (conn) => insertTransactions(conn, 'batch-w', byLoad.slice(0, 1), write)),
      (err: unknown) => (err as { errno?: number }).errno === 1062,
      write,
    );
  }
});
