import type { Pool } from './pool';
import { fromDbDateTime, toDbDateTime } from './pool';

/** Named, parameterised read queries behind the API. */
export interface TransactionRow {
  id: string;
  account: string;
  counterparty: string | null;
  type: string;
  amountMinor: string;
  currency: string;
  status: string;
  reason: string | null;
  description: string | null;
  occurredAt: string;
  ingestedAt: string;
  source: { partition: number; offset: string };
}

const COLUMNS = `id, account, counterparty, type, amount_minor, currency, status, reason, description,
  occurred_at, ingested_at, source_partition, source_offset`;

export interface DbRow {
  id: string;
  account: string;
  counterparty: string | null;
  type: string;
  amount_minor: string;
  currency: string;
  status: string;
  reason: string | null;
  description: string | null;
  occurred_at: string;
  ingested_at: string;
  source_partition: number;
  source_offset: string;
}

export function toRow(r: DbRow): TransactionRow {
  return {
    id: r.id,
    account: r.account,
    counterparty: r.counterparty,
    type: r.type,
    amountMinor: String(r.amount_minor),
    currency: r.currency,
    status: r.status,
    reason: r.reason,
    description: r.description,
    occurredAt: fromDbDateTime(r.occurred_at),
    ingestedAt: fromDbDateTime(r.ingested_at),
    source: { partition: r.source_partition, offset: String(r.source_offset) },
  };
}

export async function getTransaction(pool: Pool, id: string): Promise<TransactionRow | null> {
  const [rows] = await pool.query(`SELECT ${COLUMNS} FROM transactions WHERE id = ?`, [id]);
  const row = (rows as DbRow[])[0];
  return row ? toRow(row) : null;
}

export interface HistoryCursor {
  occurredAt: string;
  id: string;
}

/** COLUMNS of the row alias `t`, for queries that join transactions with something else. */
const T_COLUMNS = COLUMNS.split(',').map((c) => `t.${c.trim()}`).join(', ');

/**
 * Newest first: transactions the account made and transfers it received, keyset-paged on
 * (occurred_at, id) so a page costs the same at any depth. The two legs are merged on their
 * indexes alone ((account|counterparty, occurred_at, id) holds the id); only the page's own rows
 * are then read by primary key: limit + 1 row reads instead of twice that (issue 5: the p99 at 10M rows).
 */
export async function accountHistory(pool: Pool, account: string, limit: number, after?: HistoryCursor): Promise<{ items: TransactionRow[]; next: HistoryCursor | null }> {
  const at = after ? toDbDateTime(after.occurredAt) : '9999-12-31 23:59:59.999';
  const id = after ? after.id : '~';
  const leg = (column: string) =>
    `(SELECT id, occurred_at FROM transactions WHERE ${column} = ?
       AND (occurred_at < ? OR (occurred_at = ? AND id < ?))
       ORDER BY occurred_at DESC, id DESC LIMIT ?)`;
  const [rows] = await pool.query(
    `SELECT ${T_COLUMNS} FROM (
       SELECT id, occurred_at FROM (${leg('account')} UNION ALL ${leg('counterparty')}) legs
        ORDER BY occurred_at DESC, id DESC LIMIT ?
     ) page JOIN transactions t ON t.id = page.id
     ORDER BY page.occurred_at DESC, page.id DESC`,
    [account, at, at, id, limit + 1, account, at, at, id, limit + 1, limit + 1],
  );
  const items = (rows as DbRow[]).map(toRow);
  const hasMore = items.length > limit;
  const pageItems = items.slice(0, limit);
  const last = pageItems[pageItems.length - 1];
  return { items: pageItems, next: hasMore && last ? { occurredAt: last.occurredAt, id: last.id } : null };
}

/**
 * An account's balances: its balance row plus the transfer credits still waiting to be folded
 * into it (see 003_balance_credits). Both reads are by the primary key's account prefix.
 */
export async function accountBalances(pool: Pool, account: string): Promise<Array<{ currency: string; balanceMinor: string; version: string; updatedAt: string }>> {
  const [rows] = await pool.query(
    `SELECT currency, SUM(balance_minor) AS balance_minor, MAX(version) AS version, MAX(updated_at) AS updated_at FROM (
       SELECT currency, balance_minor, version, updated_at FROM balances WHERE account = ?
       UNION ALL
       SELECT currency, amount_minor, 0, created_at FROM balance_credits WHERE account = ?
     ) b GROUP BY currency ORDER BY currency`,
    [account, account],
  );
  return (rows as Array<{ currency: string; balance_minor: string; version: string; updated_at: string }>).map((r) => ({
    currency: r.currency,
    balanceMinor: String(r.balance_minor),
    version: String(r.version),
    updatedAt: fromDbDateTime(r.updated_at),
  }));
}

export interface StatsSummary {
  transactions: { applied: string; rejected: string };
  byType: Array<{ type: string; currency: string; count: string; amountMinor: string }>;
  rejectedByReason: Array<{ reason: string; count: string }>;
  lastMinute: { count: string; amountMinor: string };
  accounts: string;
}

/**
 * All-time totals and rejection reasons from the day rollup (a few rows per day: cheap at any
 * table size; the minute rollup holds ~200k rows at 30 days), the last minute from the minute
 * one, the account count from balances and pending credits: three independent reads, issued together.
 */
export async function statsSummary(pool: Pool): Promise<StatsSummary> {
  const [[days], [recent], [accounts]] = await Promise.all([
    pool.query(
      `SELECT status, type, currency, reason, SUM(tx_count) AS n, SUM(amount_minor) AS amount
         FROM rollup_day GROUP BY status, type, currency, reason ORDER BY status, type, currency, reason`,
    ),
    pool.query(
      `SELECT COALESCE(SUM(tx_count), 0) AS n, COALESCE(SUM(amount_minor), 0) AS amount FROM rollup_minute
        WHERE status = 'applied' AND minute >= UTC_TIMESTAMP() - INTERVAL 1 MINUTE`,
    ),
    pool.query('SELECT COUNT(*) AS n FROM (SELECT account FROM balances UNION SELECT account FROM balance_credits) a'),
  ]);
  const rows = days as Array<{ status: string; type: string; currency: string; reason: string; n: string; amount: string }>;
  const byType = new Map<string, { type: string; currency: string; count: bigint; amountMinor: bigint }>();
  const byReason = new Map<string, bigint>();
  const counts = { applied: 0n, rejected: 0n };
  for (const r of rows) {
    const n = BigInt(r.n);
    if (r.status === 'rejected') {
      counts.rejected += n;
      byReason.set(r.reason, (byReason.get(r.reason) ?? 0n) + n);
      continue;
    }
    counts.applied += n;
    const key = `${r.type}\u0000${r.currency}`;
    const t = byType.get(key) ?? { type: r.type, currency: r.currency, count: 0n, amountMinor: 0n };
    t.count += n;
    t.amountMinor += BigInt(r.amount);
    byType.set(key, t);
  }
  const last = (recent as Array<{ n: string; amount: string }>)[0];
  return {
    transactions: { applied: counts.applied.toString(), rejected: counts.rejected.toString() },
    byType: [...byType.values()].map((t) => ({ type: t.type, currency: t.currency, count: t.count.toString(), amountMinor: t.amountMinor.toString() })),
    rejectedByReason: [...byReason.entries()].sort(([, a], [, b]) => (a > b ? -1 : a < b ? 1 : 0)).map(([reason, n]) => ({ reason, count: n.toString() })),
    lastMinute: { count: String(last?.n ?? '0'), amountMinor: String(last?.amount ?? '0') },
    accounts: String((accounts as Array<{ n: string }>)[0]?.n ?? '0'),
  };
}

export async function ping(pool: Pool): Promise<void> {
  await pool.query('SELECT 1');
}

const SCAN_PAGE_ROWS = 50_000;

/** Every transaction in id order, keyset-paged so memory stays flat at any table size (verify). */
export async function* transactionsInIdOrder(
  pool: Pool,
): AsyncGenerator<Pick<DbRow, 'id' | 'account' | 'counterparty' | 'type' | 'amount_minor' | 'currency' | 'status' | 'description' | 'occurred_at' | 'source_partition' | 'source_offset'>> {
  let after = '';
  for (;;) {
    const [rows] = await pool.query(
      `SELECT id, account, counterparty, type, amount_minor, currency, status, description, occurred_at, source_partition, source_offset
         FROM transactions WHERE id > ? ORDER BY id LIMIT ?`,
      [after, SCAN_PAGE_ROWS],
    );
    const page = rows as DbRow[];
    for (const row of page) yield row;
    if (page.length < SCAN_PAGE_ROWS) return;
    after = (page[page.length - 1] as DbRow).id;
  }
}

/** Every balance, folded and pending credits together (verify). */
export async function allBalances(pool: Pool): Promise<Array<{ account: string; currency: string; balance_minor: string }>> {
  const [rows] = await pool.query(
    `SELECT account, currency, SUM(balance_minor) AS balance_minor FROM (
       SELECT account, currency, balance_minor FROM balances UNION ALL SELECT account, currency, amount_minor FROM balance_credits
     ) b GROUP BY account, currency`,
  );
  return rows as Array<{ account: string; currency: string; balance_minor: string }>;
}

/** The newest stored transactions, newest first: ids are UUIDv7, so primary-key order is time order. */
export async function recentTransactions(pool: Pool, limit: number): Promise<TransactionRow[]> {
  const [rows] = await pool.query(`SELECT ${COLUMNS} FROM transactions ORDER BY id DESC LIMIT ?`, [limit]);
  return (rows as DbRow[]).map(toRow);
}

/**
 * occurred→stored latency (`ingested_at - occurred_at`, in ms) of the newest `sampleRows` stored
 * transactions, in primary-key order, so the cost is bounded by the sample, not the table.
 */
export async function recentStoreLatenciesMs(pool: Pool, sampleRows: number): Promise<number[]> {
  const [rows] = await pool.query(
    `SELECT TIMESTAMPDIFF(MICROSECOND, occurred_at, ingested_at) AS latency_us
       FROM transactions ORDER BY id DESC LIMIT ?`,
    [sampleRows],
  );
  return (rows as Array<{ latency_us: string | number }>).map((r) => Number(r.latency_us) / 1_000);
}
