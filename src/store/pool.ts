import { tracingChannel } from 'node:diagnostics_channel';
import mysql from 'mysql2/promise';
import { dbPassword, type Config } from '../config';
import type { Metrics } from '../telemetry/metrics';
import { dbTls } from './security';

export type Pool = mysql.Pool;
export type Connection = mysql.PoolConnection;

/** Which database user a process connects as: the app user cannot change the schema. */
export type DbRole = 'app' | 'migrate';

export function createPool(config: Config, role: DbRole = 'app', connectionLimit = config.db.poolSize): Pool {
  const { db } = config;
  const ssl = dbTls(config);
  return mysql.createPool({
    host: db.host,
    port: db.port,
    user: role === 'app' ? db.user : db.migrationUser,
    password: dbPassword(config, role),
    database: db.name,
    connectionLimit,
    waitForConnections: true,
    // BIGINT money must never pass through a JS number: mysql2 returns such columns as strings.
    supportBigNumbers: true,
    bigNumberStrings: true,
    decimalNumbers: false,
    dateStrings: true,
    timezone: 'Z',
    multipleStatements: false,
    enableKeepAlive: true,
    connectTimeout: 10_000,
    ...(ssl ? { ssl } : {}),
    // No caller stack captured on every query: ~1 % of a worker's CPU at half load (profile;
    // docs/decisions/014-cpu-per-event-and-deadlock-safety.md). A failed query's error still carries
    // its code, errno and message.
    trace: false,
  });
}

/**
 * Runs `work` in one transaction (READ COMMITTED: no gap locks, the only level SingleStore has).
 *
 * `work` may queue several statements on the connection at once (mysql2 runs them in order). A
 * deadlock rolls the whole transaction back at once, and MariaDB then ran the statements queued
 * behind the failed one with autocommit, each committed for good (seen on 10.11: a row inserted
 * right behind a deadlock victim's statement survived the ROLLBACK). With autocommit off for the
 * transaction they open a new implicit transaction instead, which the ROLLBACK discards. It is
 * switched on again before the connection goes back to the pool: its other users rely on it.
 */
export async function inTransaction<T>(pool: Pool, work: (conn: Connection) => Promise<T>): Promise<T> {
  const end = observedPools.get(pool)?.dbTransactionDuration.startTimer();
  const conn = await pool.getConnection();
  // Autocommit goes back on in a statement queued right behind the COMMIT or ROLLBACK (no round
  // trip of its own). Its failure undoes nothing; it only keeps the connection from the pool.
  const restore = () => conn.query('SET autocommit = 1').then(
    () => true,
    () => false,
  );
  let restored: Promise<boolean> | undefined;
  try {
    await Promise.all([conn.query('SET autocommit = 0'), conn.query('SET TRANSACTION ISOLATION LEVEL READ COMMITTED'), conn.beginTransaction()]);
    let result: T;
    try {
      result = await work(conn);
      const committed = conn.commit();
      restored = restore();
      await committed;
    } catch (err) {
      const rolledBack = conn.rollback().catch(() => undefined);
      restored ??= restore();
      await rolledBack;
      end?.({ outcome: 'rollback' });
      throw err;
    }
    end?.({ outcome: 'commit' });
    return result;
  } finally {
    // A connection whose autocommit could not be restored must not serve anyone else.
    if (await (restored ?? restore())) conn.release();
    else conn.destroy();
  }
}

/** mysql2's pool bookkeeping (not in its typings): read at scrape time for the usage gauges. */
interface CorePool {
  _allConnections: { length: number };
  _freeConnections: { length: number };
  _connectionQueue: { length: number };
  config: { connectionLimit: number; connectionConfig: { user?: string; host?: string; port?: number; database?: string } };
}

const observedPools = new WeakMap<Pool, Metrics>();
const SQL_OPERATIONS = new Set(['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'SET', 'START', 'COMMIT', 'ROLLBACK']);

/**
 * Reports a pool's usage (used / idle / max / waiting) and its statements' latency into `metrics`,
 * under the OpenTelemetry database client conventions (`dbSystem` is db.system.name: the dialect).
 * Latency comes from mysql2's diagnostics channel (mysql2:query), which sees every statement of
 * the process: one role per process, as in production. Returns a function that stops observing.
 */
export function observePool(pool: Pool, metrics: Metrics, dbSystem: string): () => void {
  const core = (pool as unknown as { pool: CorePool }).pool;
  const { user, host, port, database } = core.config.connectionConfig;
  // The convention's pool name: unique in the process, the same across restarts.
  const name = `${user ?? ''}@${host ?? ''}:${port ?? ''}/${database ?? ''}`;
  const usage = () => {
    const idle = core._freeConnections.length;
    return { name, used: core._allConnections.length - idle, idle, max: core.config.connectionLimit, pending: core._connectionQueue.length };
  };
  metrics.dbPools.add(usage);
  observedPools.set(pool, metrics);
  const channel = tracingChannel<string, { query?: string; error?: { code?: string; name?: string } }>('mysql2:query');
  const started = new WeakMap<object, { atNs: bigint; errorType?: string }>();
  const handlers = {
    start: (ctx: object) => void started.set(ctx, { atNs: process.hrtime.bigint() }),
    end: () => undefined,
    asyncStart: () => undefined,
    error: (ctx: { error?: { code?: string; name?: string } }) => {
      const s = started.get(ctx);
      if (s) s.errorType = ctx.error?.code ?? ctx.error?.name ?? '_OTHER';
    },
    asyncEnd: (ctx: { query?: string }) => {
      const s = started.get(ctx);
      if (!s) return;
      const keyword = /^\s*([A-Za-z]+)/.exec(ctx.query ?? '')?.[1]?.toUpperCase() ?? '';
      const operation = SQL_OPERATIONS.has(keyword) ? keyword : 'OTHER';
      const seconds = Number(process.hrtime.bigint() - s.atNs) / 1e9;
      const labels = { db_system_name: dbSystem, db_operation_name: operation };
      metrics.dbOperationDuration.observe(s.errorType === undefined ? labels : { ...labels, error_type: s.errorType }, seconds);
    },
  };
  channel.subscribe(handlers);
  return () => {
    channel.unsubscribe(handlers);
    metrics.dbPools.delete(usage);
  };
}

/** Deadlocks and lock-wait timeouts: the whole transaction rolled back and may simply run again. */
export function isRetryableDbError(err: unknown): boolean {
  const errno = (err as { errno?: number }).errno;
  return errno === 1213 || errno === 1205;
}

/** ISO instant → DATETIME(3) literal in UTC. */
export function toDbDateTime(isoInstant: string): string {
  // The canonical form (toISOString, what every stored event carries) without two replaces.
  if (isoInstant.length === 24 && isoInstant[10] === 'T' && isoInstant[23] === 'Z') return `${isoInstant.slice(0, 10)} ${isoInstant.slice(11, 23)}`;
  return isoInstant.replace('T', ' ').replace('Z', '').slice(0, 23);
}

/** DATETIME string from the driver (UTC) → ISO instant. */
export function fromDbDateTime(value: string): string {
  return `${value.replace(' ', 'T').padEnd(23, '.000').slice(0, 23)}Z`;
}
