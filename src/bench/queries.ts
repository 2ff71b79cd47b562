import fs from 'node:fs';
import path from 'node:path';
import { escapeId } from 'mysql2';
import type { Config } from '../config';
import { createRandom } from '../domain/random';
import { accountName } from '../producer/generator';
import { splitStatements } from '../store/dialect';
import { createPool, inTransaction, toDbDateTime, type Pool } from '../store/pool';
import { accountBalances, accountHistory, getTransaction, statsSummary } from '../store/queries';
import { loadRows, TRANSACTION_COLUMNS } from '../store/load';
import { applyChunkEffects } from './bulk';
import { chunksOnWorker } from './chunkWorker';
import { attachBenchEnv, createBenchEnv, type BenchEnv } from './env';
import { dashboardQueries } from './dashboardSql';
import { percentiles, round, type Percentiles } from './stats';
import { barChart } from './svg';

export interface QueriesOptions {
  rows: number;
  accounts: number;
  seed: number;
  days: number;
  samples: number;
  /** Longest time spent sampling one query on the seed schema (its scans take seconds at 10M). */
  seedBudgetS: number;
  chunkRows: number;
  /** Keep both databases afterwards (to time them again with `reuse`). */
  keep: boolean;
  /** Time the databases of an earlier `--keep` run instead of loading new ones: [ledgerflow, seed]. */
  reuse?: [string, string];
}

export interface QueryTiming extends Percentiles {
  name: string;
  schema: 'ledgerflow' | 'seed';
  /** Counted in aggregateP99Ms: a dashboard aggregate over 1 h / 24 h. */
  aggregate?: boolean;
}

export interface QueriesResult {
  rows: number;
  /** The server's innodb_buffer_pool_size and the timed tables' size: history pages are read from disk when it is smaller. */
  server: { bufferPoolMb: number; ledgerflowTablesMb: number; dirtyPagesAtStart: number; flushWaitS: number };
  loadMs: { ledgerflow: number; seed: number };
  timings: QueryTiming[];
  accountHistoryP99Ms: number;
  aggregateP99Ms: number;
  seedAccountHistoryP99Ms: number;
  seedAggregateP99Ms: number;
}

const PAGE = 50;
/** Dirty pages (16 KiB) below which the load's flush counts as settled, and the longest wait for it. */
const FLUSH_SETTLED_PAGES = 1_000;
const FLUSH_WAIT_MAX_MS = 180_000;
const SEED_LOAD_COLUMNS = TRANSACTION_COLUMNS.map((c) => (c === 'amount_minor' ? '@amount_minor' : c));

function seedSchemaStatements(): string[] {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const file = path.join(dir, 'sql', 'bench', 'seed_schema.mariadb.sql');
    if (fs.existsSync(file)) return splitStatements(fs.readFileSync(file, 'utf8'));
    if (path.dirname(dir) === dir) throw new Error('sql/bench/seed_schema.mariadb.sql not found');
  }
}

async function time(name: string, schema: QueryTiming['schema'], samples: number, budgetS: number, run: (i: number) => Promise<unknown>, aggregate = false): Promise<QueryTiming> {
  const ms: number[] = [];
  const deadline = Date.now() + budgetS * 1000;
  await run(-1); // warm the plan and the connection
  for (let i = 0; i < samples && (i < 5 || Date.now() < deadline); i++) {
    const t0 = process.hrtime.bigint();
    await run(i);
    ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  const p = percentiles(ms);
  return { name, schema, ...(aggregate ? { aggregate } : {}), count: p.count, p50: round(p.p50), p95: round(p.p95), p99: round(p.p99), max: round(p.max) };
}

/**
 * Secondary indexes of `transactions` as ADD INDEX clauses (from information_schema, so whatever
 * the migrations define): a bulk load drops them and builds them once, sorted, afterwards.
 */
async function secondaryIndexes(pool: Pool): Promise<string[]> {
  const [rows] = await pool.query(
    `SELECT INDEX_NAME AS name, COLUMN_NAME AS col, SUB_PART AS sub FROM information_schema.STATISTICS
      WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'transactions' AND NON_UNIQUE = 1 ORDER BY INDEX_NAME, SEQ_IN_INDEX`,
  );
  const byName = new Map<string, string[]>();
  for (const r of rows as Array<{ name: string; col: string; sub: number | null }>) {
    byName.set(r.name, [...(byName.get(r.name) ?? []), `${escapeId(r.col)}${r.sub ? `(${r.sub})` : ''}`]);
  }
  return [...byName.entries()].map(([name, cols]) => `ADD INDEX ${escapeId(name)} (${cols.join(', ')})`);
}

/** Loads the same rows into the real schema (with balances + rollups) and into the seed's schema, side by side. */
async function load(real: BenchEnv, seed: Pool, options: QueriesOptions, endMs: number, log: (line: string) => void): Promise<{ ids: string[]; loadMs: QueriesResult['loadMs'] }> {
  const pool = createPool(real.config, 'app', 1);
  const ddl = createPool(real.config, 'migrate', 1);
  const ids: string[] = [];
  const loadMs = { ledgerflow: 0, seed: 0 };
  const balances = new Map<string, bigint>();
  try {
    const indexes = await secondaryIndexes(ddl);
    const started = Date.now();
    if (indexes.length > 0) await ddl.query(`ALTER TABLE transactions ${indexes.map((i) => `DROP INDEX ${i.split(' ')[2]}`).join(', ')}`);
    const chunks = chunksOnWorker({ ...options, totalRows: options.rows, overdraftLimitMinor: BigInt(real.config.rules.overdraftLimitMinor), timeSpan: { startMs: endMs - options.days * 86_400_000, endMs } }, 997);
    let done = 0;
    for await (const chunk of chunks) {
      const t0 = Date.now();
      await Promise.all([
        inTransaction(pool, async (conn) => {
          await loadRows(conn, 'transactions', chunk.tsv);
          await applyChunkEffects(conn, chunk.effects);
        }).then(() => (loadMs.ledgerflow += Date.now() - t0)),
        inTransaction(seed, (conn) => loadRows(conn, 'transactions', chunk.tsv, { columns: SEED_LOAD_COLUMNS, set: 'amount = @amount_minor / 100' })).then(() => (loadMs.seed += Date.now() - t0)),
      ]);
      for (const [key, delta] of chunk.effects.balanceDeltas) balances.set(key, (balances.get(key) ?? 0n) + delta);
      ids.push(...chunk.sampledIds);
      done += chunk.rows;
      if (done % 1_000_000 < options.chunkRows) log(`bench queries: ${done} rows loaded in ${round((Date.now() - started) / 1000)} s`);
    }
    const t1 = Date.now();
    if (indexes.length > 0) await ddl.query(`ALTER TABLE transactions ${indexes.join(', ')}`);
    loadMs.ledgerflow += Date.now() - t1;
    log(`bench queries: secondary indexes built in ${round((Date.now() - t1) / 1000)} s`);
    const rows = [...balances.entries()].map(([key, v]) => [...key.split('\u0000'), Number(v) / 100]);
    for (let i = 0; i < rows.length; i += 1000) await seed.query('INSERT INTO balances (account, currency, balance) VALUES ?', [rows.slice(i, i + 1000)]);
    await pool.query('ANALYZE TABLE transactions, balances, rollup_minute, rollup_day, rollup_account_day');
    await seed.query('ANALYZE TABLE transactions, balances');
  } finally {
    await Promise.allSettled([pool.end(), ddl.end()]);
  }
  return { ids, loadMs };
}

/** A sample of stored ids and the newest occurred_at, read back from a reused database. */
async function sampleStored(pool: Pool, days: number, samples: number, seed: number): Promise<{ ids: string[]; endMs: number }> {
  const [max] = await pool.query('SELECT MAX(occurred_at) AS at FROM transactions');
  const endMs = Date.parse(`${(max as Array<{ at: string }>)[0]?.at.replace(' ', 'T')}Z`);
  const random = createRandom(seed);
  const ids: string[] = [];
  for (let i = 0; i < samples; i++) {
    const at = toDbDateTime(new Date(endMs - random() * days * 86_400_000).toISOString());
    const [rows] = await pool.query('SELECT id FROM transactions WHERE occurred_at >= ? ORDER BY occurred_at LIMIT 1', [at]);
    const row = (rows as Array<{ id: string }>)[0];
    if (row) ids.push(row.id);
  }
  return { ids, endMs };
}

export async function runQueries(baseConfig: Config, options: QueriesOptions, log: (line: string) => void): Promise<QueriesResult> {
  const base = { 'log.level': baseConfig.log.level };
  const real = options.reuse ? attachBenchEnv(options.reuse[0], base) : await createBenchEnv('queries', { overrides: base });
  const seedEnv = options.reuse ? attachBenchEnv(options.reuse[1], base) : await createBenchEnv('seedschema', { migrate: false, overrides: base });
  if (!options.reuse) {
    const seedDdl = createPool(seedEnv.config, 'migrate', 1);
    try {
      for (const statement of seedSchemaStatements()) await seedDdl.query(statement);
    } finally {
      await seedDdl.end();
    }
  }
  const seed = createPool(seedEnv.config, 'app', 2);
  const pool = createPool(real.config, 'app', 2);
  try {
    const loaded = options.reuse
      ? { ...(await sampleStored(pool, options.days, 2_000, options.seed)), loadMs: { ledgerflow: Number.NaN, seed: Number.NaN } }
      : await (async () => {
          const endMs = Date.now();
          return { endMs, ...(await load(real, seed, options, endMs, log)) };
        })();
    const { ids, loadMs, endMs } = loaded;
    const [counted] = await pool.query('SELECT COUNT(*) AS n FROM transactions');
    const rows = Number((counted as Array<{ n: string }>)[0]?.n ?? 0);
    const [sized] = await pool.query(
      `SELECT @@innodb_buffer_pool_size DIV 1048576 AS pool, SUM(data_length + index_length) DIV 1048576 AS tables FROM information_schema.TABLES WHERE table_schema = DATABASE()`,
    );
    // A bulk load leaves gigabytes of dirty pages that InnoDB writes out over the next minutes;
    // timing during that flush measures the load's aftermath, not the queries. Wait (bounded)
    // until the flush has settled, and record how long and from where.
    const dirty = async () => Number(((await pool.query("SHOW GLOBAL STATUS LIKE 'Innodb_buffer_pool_pages_dirty'"))[0] as Array<{ Value: string }>)[0]?.Value ?? 0);
    const dirtyPagesAtStart = await dirty();
    const flushStarted = Date.now();
    while ((await dirty()) > FLUSH_SETTLED_PAGES && Date.now() - flushStarted < FLUSH_WAIT_MAX_MS) await new Promise((r) => setTimeout(r, 2_000));
    const server = {
      bufferPoolMb: Number((sized as Array<{ pool: string }>)[0]?.pool),
      ledgerflowTablesMb: Number((sized as Array<{ tables: string }>)[0]?.tables),
      dirtyPagesAtStart,
      flushWaitS: round((Date.now() - flushStarted) / 1000),
    };
    log(`bench queries: buffer pool ${server.bufferPoolMb} MiB, ledgerflow tables ${server.ledgerflowTablesMb} MiB; waited ${server.flushWaitS} s for ${dirtyPagesAtStart} dirty pages to flush`);
    log(`bench queries: timing ${rows} rows (${real.config.db.name}, ${seedEnv.config.db.name})`);
    const random = createRandom(options.seed + 1);
    const account = () => accountName(Math.floor(random() * options.accounts));
    const id = () => ids[Math.floor(random() * ids.length)] as string;
    const timings: QueryTiming[] = [];
    const n = options.samples;
    const budget = options.seedBudgetS;
    const long = 3_600; // the real schema's queries are sampled until `samples`, whatever it takes
    timings.push(await time('account history page', 'ledgerflow', n, long, () => accountHistory(pool, account(), PAGE)));
    timings.push(await time('transaction by id', 'ledgerflow', n, long, () => getTransaction(pool, id())));
    timings.push(await time('account balance', 'ledgerflow', n, long, () => accountBalances(pool, account())));
    timings.push(await time('stats summary (all-time rollups)', 'ledgerflow', n, long, () => statsSummary(pool), true));
    for (const [label, hours] of [['1h', 1], ['24h', 24]] as const) {
      const from = toDbDateTime(new Date(endMs - hours * 3_600_000).toISOString());
      const to = toDbDateTime(new Date(endMs).toISOString());
      for (const q of dashboardQueries(from, to, hours === 1 ? 60 : 300, 'EUR')) {
        timings.push(await time(`${q.name} [${label}]`, 'ledgerflow', q.table === 'transactions' ? Math.min(n, 50) : n, long, () => pool.query(q.sql), q.table === 'rollup'));
      }
      timings.push(
        await time(`aggregate by type [${label}]`, 'seed', n, budget, () =>
          seed.query("SELECT type, COUNT(*) AS n, SUM(amount) AS amount FROM transactions WHERE occurred_at BETWEEN ? AND ? AND status = 'applied' GROUP BY type", [from, to]), true),
      );
    }
    timings.push(
      await time('account history page', 'seed', n, budget, () => {
        const a = account();
        return seed.query('SELECT * FROM transactions WHERE account = ? OR counterparty = ? ORDER BY occurred_at DESC, id DESC LIMIT ?', [a, a, PAGE + 1]);
      }),
    );
    timings.push(await time('transaction by id', 'seed', n, budget, () => seed.query('SELECT * FROM transactions WHERE id = ?', [id()])));
    timings.push(await time('account balance', 'seed', n, budget, () => seed.query('SELECT currency, balance FROM balances WHERE account = ?', [account()])));
    const p99 = (schema: QueryTiming['schema'], pick: (t: QueryTiming) => boolean) => Math.max(0, ...timings.filter((t) => t.schema === schema && pick(t)).map((t) => t.p99));
    const result: QueriesResult = {
      rows,
      server,
      loadMs,
      timings,
      accountHistoryP99Ms: p99('ledgerflow', (t) => t.name === 'account history page'),
      aggregateP99Ms: p99('ledgerflow', (t) => t.aggregate === true),
      seedAccountHistoryP99Ms: p99('seed', (t) => t.name === 'account history page'),
      seedAggregateP99Ms: p99('seed', (t) => t.aggregate === true),
    };
    log(`bench queries: ${rows} rows; history p99 ${result.accountHistoryP99Ms} ms (seed ${result.seedAccountHistoryP99Ms} ms); aggregates p99 ${result.aggregateP99Ms} ms (seed ${result.seedAggregateP99Ms} ms)`);
    return result;
  } finally {
    await Promise.allSettled([pool.end(), seed.end()]);
    if (options.keep) log(`bench queries: kept ${real.config.db.name} and ${seedEnv.config.db.name} (drop them, or time them again with --reuse ${real.config.db.name},${seedEnv.config.db.name})`);
    else {
      await real.dispose();
      await seedEnv.dispose();
    }
  }
}

export function queriesChart(r: QueriesResult): string {
  const names = ['account history page', 'transaction by id', 'account balance'];
  const pick = (schema: QueryTiming['schema'], name: string) => r.timings.find((t) => t.schema === schema && t.name === name)?.p99 ?? 0;
  return barChart(
    `Query p99 (ms) at ${r.rows} rows: ledgerflow schema vs the seed's`,
    'p99 ms',
    [...names, 'aggregates (worst)'],
    [
      { name: 'ledgerflow', values: [...names.map((n) => pick('ledgerflow', n)), r.aggregateP99Ms] },
      { name: 'seed schema', values: [...names.map((n) => pick('seed', n)), r.seedAggregateP99Ms] },
    ],
    true,
  );
}
