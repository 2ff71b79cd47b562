import { invariant } from '../domain/errors';
import type { Decision, LedgerOutcome, PendingCredit } from '../domain/ledger';
import { balanceKey, dayRollupsOf, splitBalanceKey } from '../domain/ledger';
import { loadRowsExactly, TRANSACTION_COLUMNS, type TsvValue } from './load';
import type { Connection, Pool } from './pool';
import { isRetryableDbError, toDbDateTime } from './pool';

/**
 * Rows per multi-row statement: packets stay far below max_allowed_packet (the largest, 2,000
 * statistics rows of at most 786 B sent as hex, is under 3.5 MB). Every statement is a round trip
 * on the batch's path while its transaction holds its locks: 2,000 (a half-load batch's account
 * rows then go in one statement each) against 500 gave half-load p99 979 · 983 · 997 against
 * 1,144 · 1,160 · 1,135 ms at 19,000 tx/s, alternating; 40,998 tx/s at the maximum against 38,181
 * an hour before (4 M backlog, 30 s). Every range read and delete still reads only its own rows
 * (performance_schema: rows examined = rows sent or deleted; docs/decisions/015-lock-reads-and-load-generator.md).
 */
export const ROWS_PER_STATEMENT = 2000;

/**
 * Values per `IN (…)` list of a read that must use the primary key: below MariaDB's
 * in_predicate_conversion_threshold (1,000). At 1,000 values or more MariaDB turns the list into
 * a materialised table and may join it by scanning the whole table: on 10.11 a locking read of
 * 2,700 of 10,000 accounts read (and locked, one after another) all 10,000 rows, so it waited on
 * every row the batch of the other partitions held. Below it the list is a range over the index
 * (only the rows asked for, in key order).
 */
export const IN_LIST_MAX = 999;

export function chunks<T>(items: ReadonlyArray<T>, size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * Takes the row locks of the given (sorted) balance keys and reads them: one locking read by
 * account (`account IN (…) FOR UPDATE`, the primary key's prefix), which locks every currency row
 * of those accounts. They are the batch's own accounts (keyed to its partitions), so no other
 * batch wants them; the reversal of a reviewed transaction locks its accounts the same way.
 * Under READ COMMITTED a range read locks only the rows it returns, not their neighbours: a batch
 * of the other partitions, holding the next account's row, does not make it wait (checked on
 * 10.11). The lists stay below IN_LIST_MAX values, so the read is a range (see there).
 *
 * A key without a row yet (ensureBalanceRows creates them before the transaction, best effort)
 * is created here by an upsert, which locks it, and then read.
 *
 * This was an upsert (`INSERT … ON DUPLICATE KEY UPDATE version = version`, which locks) and a
 * read after it: two statements and two row operations per account. At half load a batch touches
 * ~2,800 accounts, and the upsert was 6 % of the database's statement time (decision 015). It was not
 * a locking read because the read was `(account, currency) IN (…)`, which MariaDB planned as a
 * full scan: a locking scan waits on every row another batch holds.
 */
export async function lockBalances(conn: Connection, sortedKeys: ReadonlyArray<string>): Promise<Map<string, bigint>> {
  const wanted = new Set(sortedKeys);
  const accounts: string[] = [];
  for (const key of sortedKeys) {
    const { account } = splitBalanceKey(key);
    if (accounts[accounts.length - 1] !== account) accounts.push(account);
  }
  const balances = new Map<string, bigint>();
  const keep = (rows: unknown) => {
    for (const r of rows as Array<{ account: string; currency: string; balance_minor: string }>) {
      const key = balanceKey(r.account, r.currency);
      if (wanted.has(key)) balances.set(key, BigInt(r.balance_minor));
    }
  };
  // The chunks go out back to back (mysql2 runs them in order on the connection): no round trip between them.
  const reads = await Promise.all(
    chunks(accounts, IN_LIST_MAX).map((part) => conn.query('SELECT account, currency, balance_minor FROM balances WHERE account IN (?) ORDER BY account, currency FOR UPDATE', [part])),
  );
  for (const [rows] of reads) keep(rows);
  const missing = sortedKeys.filter((key) => !balances.has(key));
  for (const part of chunks(missing, ROWS_PER_STATEMENT)) {
    const pairs = part.map((key) => {
      const { account, currency } = splitBalanceKey(key);
      return [account, currency];
    });
    // ON DUPLICATE KEY UPDATE locks a row another writer created meanwhile (INSERT IGNORE would take a shared lock).
    await conn.query('INSERT INTO balances (account, currency, balance_minor, version) VALUES ? ON DUPLICATE KEY UPDATE version = version', [pairs.map(([account, currency]) => [account, currency, 0, 0])]);
    const [rows] = await conn.query('SELECT account, currency, balance_minor FROM balances WHERE (account, currency) IN (?)', [pairs]);
    keep(rows);
  }
  return balances;
}

/** Balance keys a `known` set holds at most; past that it starts over (a worker sees ~40 B per key). */
const KNOWN_BALANCE_ROWS_MAX = 1_000_000;

/** Attempts of the short pre-create statement before leaving new rows to the batch's transaction. */
const ENSURE_ATTEMPTS_MAX = 3;

/**
 * Creates the missing balance rows (balance 0, version 0) in short autocommit statements before
 * the batch's transaction starts. A zero row means the same as no row, so this changes no money
 * and needs no undo. Inside the long transaction, concurrent inserts of neighbouring new rows
 * deadlocked (insert-intention vs. duplicate-check locks) and the whole batch rolled back; with
 * the rows present, the transaction only takes record locks in sorted order. Best effort: if
 * this keeps deadlocking, the transaction still creates what is missing itself.
 *
 * `known` remembers the keys seen present: no statement deletes a balance row, so those need no
 * second look (the look was 5 % of the database's statement time at half load, docs/decisions/012-packed-batches.md), and a
 * row missing anyway is still created by the transaction.
 */
export async function ensureBalanceRows(pool: Pool, sortedKeys: ReadonlyArray<string>, known?: Set<string>): Promise<void> {
  const unknown = known ? sortedKeys.filter((key) => !known.has(key)) : sortedKeys;
  for (const part of chunks(unknown, ROWS_PER_STATEMENT)) {
    const pairs = part.map((key) => Object.values(splitBalanceKey(key)));
    const [found] = await pool.query('SELECT account, currency FROM balances WHERE (account, currency) IN (?)', [pairs]);
    const present = new Set((found as Array<{ account: string; currency: string }>).map((r) => `${r.account}\u0000${r.currency}`));
    const missing = part.filter((key) => !present.has(key)).map((key) => [...Object.values(splitBalanceKey(key)), 0, 0]);
    for (let attempt = 1; missing.length > 0; attempt++) {
      try {
        await pool.query('INSERT IGNORE INTO balances (account, currency, balance_minor, version) VALUES ?', [missing]);
        break;
      } catch (err) {
        if (!isRetryableDbError(err)) throw err;
        if (attempt >= ENSURE_ATTEMPTS_MAX) return;
        await new Promise((r) => setTimeout(r, 5 + Math.floor(Math.random() * 20 * attempt)));
      }
    }
    if (known) {
      if (known.size + part.length > KNOWN_BALANCE_ROWS_MAX) known.clear();
      for (const key of part) known.add(key);
    }
  }
}

/** Ids of this batch already stored (by an earlier attempt, a replay, or a duplicate send). */
export async function findExistingIds(conn: Connection, ids: ReadonlyArray<string>): Promise<Set<string>> {
  const existing = new Set<string>();
  for (const part of chunks(ids, ROWS_PER_STATEMENT)) {
    const [rows] = await conn.query('SELECT id FROM transactions WHERE id IN (?)', [part]);
    for (const r of rows as Array<{ id: string }>) existing.add(r.id);
  }
  return existing;
}

/** Rows per LOAD DATA of the batch's transactions (a 5,000-event batch is ~1 MB of text). */
const LOAD_ROWS_MAX = 10_000;

const TRANSACTION_INSERT = `INSERT INTO transactions (${TRANSACTION_COLUMNS.join(', ')}) VALUES ?`;

/**
 * How the batch's rows are written: `load` = LOAD DATA LOCAL (src/store/load.ts: a third less
 * server CPU per row than the multi-row INSERT, MariaDB); `insert` = multi-row INSERT, for
 * SingleStore, whose LOAD DATA we cannot run here to prove it stays inside the batch's transaction.
 */
export type RowWrite = 'load' | 'insert';

/** A decision as a `transactions` row, in TRANSACTION_COLUMNS order. */
export function transactionRowOf({ event: e, status, reason }: Decision, batchId: string): TsvValue[] {
  return [e.id, e.account, e.counterparty ?? null, e.type, e.amountMinor, e.currency, status, reason, e.description ?? null, toDbDateTime(e.occurredAt), e.partition, e.offset, batchId];
}

/**
 * Every row must be stored as sent: a racing duplicate (or, for a load, any warning) fails the
 * transaction like a plain INSERT, and its retry skips the row.
 */
export async function insertTransactions(conn: Connection, batchId: string, decisions: ReadonlyArray<Decision>, write: RowWrite = 'load'): Promise<void> {
  for (const part of chunks(decisions, write === 'load' ? LOAD_ROWS_MAX : ROWS_PER_STATEMENT)) {
    const rows = part.map((d) => transactionRowOf(d, batchId));
    if (write === 'load') await loadRowsExactly(conn, 'transactions', rows);
    else await conn.query(TRANSACTION_INSERT, [rows]);
  }
}

/**
 * Writes the new value of balance rows this transaction holds locked (lockBalances read them): an
 * absolute value, not `balance_minor + delta`, so no intermediate sum can leave the column's
 * range (a fold's delta may exceed it even when the result does not). In primary-key order.
 */
export async function writeBalances(conn: Connection, values: ReadonlyMap<string, bigint>): Promise<void> {
  const sorted = [...values.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (const part of chunks(sorted, ROWS_PER_STATEMENT)) {
    const rows = part.map(([key, value]) => {
      const { account, currency } = splitBalanceKey(key);
      return [account, currency, value.toString(), 1];
    });
    await conn.query(
      `INSERT INTO balances (account, currency, balance_minor, version) VALUES ?
       ON DUPLICATE KEY UPDATE balance_minor = VALUES(balance_minor), version = version + 1`,
      [rows],
    );
  }
}

export async function applyBalanceDeltas(conn: Connection, deltas: LedgerOutcome['balanceDeltas']): Promise<void> {
  const sorted = [...deltas.entries()].filter(([, d]) => d !== 0n).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (const part of chunks(sorted, ROWS_PER_STATEMENT)) {
    const rows = part.map(([key, delta]) => {
      const { account, currency } = splitBalanceKey(key);
      return [account, currency, delta.toString(), 1];
    });
    await conn.query(
      `INSERT INTO balances (account, currency, balance_minor, version) VALUES ?
       ON DUPLICATE KEY UPDATE balance_minor = balance_minor + VALUES(balance_minor), version = version + 1`,
      [rows],
    );
  }
}

/** A credit waiting in balance_credits. */
export interface PendingCreditRow {
  account: string;
  currency: string;
  txId: string;
  amountMinor: bigint;
}

/** Credits waiting in balance_credits for the given (locked) keys: their sum per key and their rows. */
export interface PendingFold {
  sums: Map<string, bigint>;
  rows: PendingCreditRow[];
}

/**
 * Reads the pending credits of keys this transaction holds locked (see 003_balance_credits). A
 * plain consistent read is enough: only a batch holding a key's balance lock folds (deletes) its
 * credits, and we hold it; a credit committed after this read stays pending for the next fold.
 */
export async function readPendingCredits(conn: Connection, lockedKeys: ReadonlySet<string>): Promise<PendingFold> {
  const fold: PendingFold = { sums: new Map(), rows: [] };
  const accounts = [...new Set([...lockedKeys].map((key) => splitBalanceKey(key).account))];
  for (const part of chunks(accounts, IN_LIST_MAX)) {
    // FORCE INDEX: the table churns (every credit is inserted, then deleted by a fold), its index
    // statistics go stale, and MariaDB planned this as a full scan of the table (20k rows read per
    // query for ~1k wanted, 5 % of the database's statement time at the benchmark's maximum). In a
    // MariaDB-only comment (/*M!…*/), so other servers of the protocol (SingleStore) read none.
    const [rows] = await conn.query('SELECT account, currency, tx_id, amount_minor FROM balance_credits /*M! FORCE INDEX (PRIMARY) */ WHERE account IN (?)', [part]);
    for (const r of rows as Array<{ account: string; currency: string; tx_id: string; amount_minor: string }>) {
      const key = balanceKey(r.account, r.currency);
      if (!lockedKeys.has(key)) continue;
      const amountMinor = BigInt(r.amount_minor);
      fold.sums.set(key, (fold.sums.get(key) ?? 0n) + amountMinor);
      fold.rows.push({ account: r.account, currency: r.currency, txId: r.tx_id, amountMinor });
    }
  }
  return fold;
}

/**
 * How a fold deletes the credits it moved, by their exact keys: `join` (MariaDB) looks each key up
 * in the primary key; `in-list` (SingleStore) is one `(account, currency, tx_id) IN (…)` statement.
 */
export type CreditDelete = 'join' | 'in-list';

/**
 * MariaDB plans `(account, currency, tx_id) IN (…)` by cost, and a fold often deletes most of what
 * balance_credits holds (the credits are folded as fast as they come): it then scans the table,
 * and a scanning DELETE waits on every row it passes that another batch has inserted and not yet
 * committed, though it deletes none of them (seen on 10.11: a batch folding 40 of 168 rows read
 * all 168; FORCE INDEX is not honoured in a multi-table DELETE). Driving the delete from the key
 * list, STRAIGHT_JOIN to the primary key (eq_ref), touches only the rows it deletes. The list's
 * column types are the table's, so the lookup uses the key (docs/decisions/027).
 */
const CREDIT_DELETE_BY_KEYS = `DELETE c FROM JSON_TABLE(?, '$[*]' COLUMNS (
    account VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin PATH '$[0]',
    currency CHAR(3) CHARACTER SET ascii COLLATE ascii_bin PATH '$[1]',
    tx_id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin PATH '$[2]')) k
  STRAIGHT_JOIN balance_credits c ON c.account = k.account AND c.currency = k.currency AND c.tx_id = k.tx_id`;

/** Deletes the credits a fold moved into balances; every one of them must still be there. */
export async function deleteFoldedCredits(conn: Connection, rows: ReadonlyArray<Pick<PendingCreditRow, 'account' | 'currency' | 'txId'>>, how: CreditDelete = 'join'): Promise<void> {
  for (const part of chunks(rows, ROWS_PER_STATEMENT)) {
    // Exact primary keys: a range over the accounts would also lock (and wait on) credits other
    // batches are inserting for these accounts right now, and those batches may wait on ours.
    const keys = part.map((r) => [r.account, r.currency, r.txId]);
    const [res] =
      how === 'join'
        ? await conn.query(CREDIT_DELETE_BY_KEYS, [JSON.stringify(keys)])
        : await conn.query('DELETE FROM balance_credits WHERE (account, currency, tx_id) IN (?)', [keys]);
    invariant((res as { affectedRows: number }).affectedRows === part.length, 'folded credits are deleted exactly once', String(part.length));
  }
}

/** One row per applied transfer to a key the batch does not hold; plain INSERT: a second copy is a bug. */
export async function insertPendingCredits(conn: Connection, credits: ReadonlyArray<PendingCredit>): Promise<void> {
  const sorted = [...credits].sort((a, b) => (a.account < b.account ? -1 : a.account > b.account ? 1 : a.txId < b.txId ? -1 : 1));
  for (const part of chunks(sorted, ROWS_PER_STATEMENT)) {
    await conn.query('INSERT INTO balance_credits (account, currency, tx_id, amount_minor) VALUES ?', [part.map((c) => [c.account, c.currency, c.txId, c.amountMinor.toString()])]);
  }
}

/**
 * The batch's rollup deltas at minute grain (dashboards over hours) and, from the same deltas, at
 * day grain (all-time totals): one upsert each, in primary-key order.
 *
 * Every concurrent batch upserts these rows, so they are locked in one global order: table, then
 * primary key. One multi-row statement keeps that order on MariaDB (one engine, rows in statement
 * order). On SingleStore the rows of one statement live on several partitions, whose leaves apply
 * them in parallel, so no order holds across partitions, and SingleStore detects no deadlock (a
 * cycle waits for lock_wait_timeout): there `rowsPerStatement` is 1 and each row is its own
 * statement, taken in the global order (docs/decisions/027-singlestore-conformance.md).
 */
export async function applyRollups(conn: Connection, rollups: LedgerOutcome['rollups'], rowsPerStatement = ROWS_PER_STATEMENT): Promise<void> {
  const sorted = [...rollups.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, r]) => r);
  for (const part of chunks(sorted, rowsPerStatement)) {
    const rows = part.map((r) => [r.minute, r.type, r.currency, r.status, r.reason, r.count, r.sumMinor.toString()]);
    await conn.query(
      `INSERT INTO rollup_minute (minute, type, currency, status, reason, tx_count, amount_minor) VALUES ?
       ON DUPLICATE KEY UPDATE tx_count = tx_count + VALUES(tx_count), amount_minor = amount_minor + VALUES(amount_minor)`,
      [rows],
    );
  }
  for (const part of chunks(dayRollupsOf(rollups), rowsPerStatement)) {
    const rows = part.map((r) => [r.day, r.type, r.currency, r.status, r.reason, r.count, r.sumMinor.toString()]);
    await conn.query(
      `INSERT INTO rollup_day (day, type, currency, status, reason, tx_count, amount_minor) VALUES ?
       ON DUPLICATE KEY UPDATE tx_count = tx_count + VALUES(tx_count), amount_minor = amount_minor + VALUES(amount_minor)`,
      [rows],
    );
  }
}

/**
 * Per-account, per-day counts and applied amounts, in primary-key order. Kafka keys by account,
 * so concurrent batches of different partitions touch disjoint rows here.
 */
export async function applyAccountRollups(conn: Connection, accountDays: LedgerOutcome['accountDays']): Promise<void> {
  const sorted = [...accountDays.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, r]) => r);
  for (const part of chunks(sorted, ROWS_PER_STATEMENT)) {
    const rows = part.map((r) => [r.day, r.currency, r.account, r.count, r.rejectedCount, r.appliedMinor.toString()]);
    await conn.query(
      `INSERT INTO rollup_account_day (day, currency, account, tx_count, rejected_count, applied_minor) VALUES ?
       ON DUPLICATE KEY UPDATE tx_count = tx_count + VALUES(tx_count), rejected_count = rejected_count + VALUES(rejected_count),
         applied_minor = applied_minor + VALUES(applied_minor)`,
      [rows],
    );
  }
}
