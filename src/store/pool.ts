import mysql from 'mysql2/promise';
import { dbPassword, type Config } from '../config';

export type Pool = mysql.Pool;
export type Connection = mysql.PoolConnection;

/** Which database user a process connects as: the app user cannot change the schema. */
export type DbRole = 'app' | 'migrate';

export function createPool(config: Config, role: DbRole = 'app', connectionLimit = config.db.poolSize): Pool {
  const { db } = config;
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
  });
}

/** Runs `work` in one transaction (READ COMMITTED: no gap locks, the only level SingleStore has). */
export async function inTransaction<T>(pool: Pool, work: (conn: Connection) => Promise<T>): Promise<T> {
  const conn = await pool.getConnection();
  try {
    await conn.query('SET TRANSACTION ISOLATION LEVEL READ COMMITTED');
    await conn.beginTransaction();
    try {
      const result = await work(conn);
      await conn.commit();
      return result;
    } catch (err) {
      await conn.rollback().catch(() => undefined);
      throw err;
    }
  } finally {
    conn.release();
  }
}

/** Deadlocks and lock-wait timeouts: the whole transaction rolled back and may simply run again. */
export function isRetryableDbError(err: unknown): boolean {
  const errno = (err as { errno?: number }).errno;
  return errno === 1213 || errno === 1205;
}

/** ISO instant → DATETIME(3) literal in UTC. */
export function toDbDateTime(isoInstant: string): string {
  return isoInstant.replace('T', ' ').replace('Z', '').slice(0, 23);
}

/** DATETIME string from the driver (UTC) → ISO instant. */
export function fromDbDateTime(value: string): string {
  return `${value.replace(' ', 'T').padEnd(23, '.000').slice(0, 23)}Z`;
}
