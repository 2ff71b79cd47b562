/**
 * Counts the row-lock waits of the suite's own sessions while they run batches (the
 * deadlock-freedom check of test/store/conformance.test.ts; docs/singlestore.md says why).
 *
 * - MariaDB: the sessions run with `innodb_lock_wait_timeout = 0`, so a statement that would wait
 *   for a row lock fails at once with 1205 instead of waiting: every wait becomes a failed try that
 *   the batch path retries and the counter sees, with its statement. Exact, for these sessions
 *   only (the server's Innodb_row_lock_waits counts every client), and no privilege is needed.
 * - SingleStore: the sessions keep their lock wait timeout, and a sampler reads
 *   information_schema.MV_BLOCKED_QUERIES for them every few milliseconds: a wait shorter than
 *   that can be missed. Not yet run against SingleStore.
 */
import type { Config } from '../../src/config';
import { createPool, type Pool } from '../../src/store/pool';

const SAMPLE_EVERY_MS = 2;

export interface LockWaits {
  /** The pool whose sessions are watched. */
  pool: Pool;
  /** Waits seen so far, one entry per wait: the statement that waited (its first 100 characters). */
  seen(): string[];
  end(): Promise<void>;
}

interface CoreConnection {
  threadId: number;
  query(sql: string, cb?: (err: Error | null) => void): unknown;
}

export function watchLockWaits(config: Config, connectionLimit: number): LockWaits {
  const pool = createPool(config, 'app', connectionLimit);
  const waits: string[] = [];
  const threadIds = new Set<number>();
  const core = (pool as unknown as { pool: { on(event: 'connection', listener: (conn: CoreConnection) => void): void } }).pool;
  const mariadb = config.db.dialect === 'mariadb';
  core.on('connection', (conn) => {
    threadIds.add(conn.threadId);
    // Queued before anything else the connection runs; a failure here fails that first statement.
    if (mariadb) conn.query('SET SESSION innodb_lock_wait_timeout = 0');
  });
  if (mariadb) {
    // The 1205 errors carry their statement; the batch path's observer would only see the code.
    const getConnection = pool.getConnection.bind(pool);
    pool.getConnection = async () => {
      const conn = await getConnection();
      const query = conn.query.bind(conn) as (...args: unknown[]) => Promise<unknown>;
      (conn as unknown as { query: (...args: unknown[]) => Promise<unknown> }).query = (...args: unknown[]) =>
        query(...args).catch((err: { errno?: number; sql?: string }) => {
          if (err.errno === 1205) waits.push(String(err.sql ?? args[0]).slice(0, 100));
          throw err;
        });
      return conn;
    };
    return { pool, seen: () => [...waits], end: () => pool.end() };
  }
  const sampler = createPool(config, 'app', 1);
  let running = true;
  let blocked = new Set<string>();
  const loop = (async () => {
    while (running) {
      const ids = [...threadIds];
      if (ids.length > 0) {
        const read = await sampler.query('SELECT id, query_text, blocking_type FROM information_schema.MV_BLOCKED_QUERIES WHERE id IN (?)', [ids]).catch((err: Error) => err);
        if (read instanceof Error) {
          // Counted as a failure to count, not as no waits.
          waits.push(`cannot read information_schema.MV_BLOCKED_QUERIES as the app user (${read.message}); see docs/singlestore.md`);
          return;
        }
        const [rows] = read;
        const now = new Set<string>();
        for (const r of rows as Array<{ id: number; query_text: string; blocking_type: string }>) {
          // A wait seen in consecutive samples is one wait.
          const key = `${r.id}\u0000${r.query_text}`;
          now.add(key);
          if (!blocked.has(key)) waits.push(`${r.blocking_type}: ${String(r.query_text).slice(0, 100)}`);
        }
        blocked = now;
      }
      await new Promise((resolve) => setTimeout(resolve, SAMPLE_EVERY_MS));
    }
  })();
  return {
    pool,
    seen: () => [...waits],
    end: async () => {
      running = false;
      await loop;
      await Promise.all([pool.end(), sampler.end()]);
    },
  };
}

/** MariaDB's server-wide count of row-lock waits (every client), for the report; null elsewhere. */
export async function serverRowLockWaits(pool: Pool, config: Config): Promise<number | null> {
  if (config.db.dialect !== 'mariadb') return null;
  const [rows] = await pool.query("SHOW GLOBAL STATUS LIKE 'Innodb_row_lock_waits'");
  return Number((rows as Array<{ Value: string }>)[0]?.Value ?? NaN);
}
