import type { Config } from '../config';
import { LedgerflowError } from '../domain/errors';
import { loadMigrations, SINGLESTORE_MIN_VERSION, versionAtLeast, type Dialect } from './dialect';
import { createPool, type Connection, type Pool } from './pool';
import { explainDbStartError } from './security';

export interface MigrationReport {
  applied: number[];
  alreadyApplied: number[];
}

const LOCK_NAME = 'ledgerflow_migrate';

/**
 * One runner at a time, on both stores, with row locks only: a second connection holds the row of
 * `schema_migrations_lock` in an open transaction (an UPDATE, which locks it on MariaDB and on
 * SingleStore, whose row-locking page says writes lock the rows they change) while the first one
 * runs the DDL. Another runner's UPDATE waits for it, up to the store's lock wait timeout. The
 * lock goes with the transaction: a ROLLBACK when done, or the connection dropping when the
 * runner dies. It was GET_LOCK, which SingleStore's documentation does not list (decision 027).
 */
async function takeMigrationLock(pool: Pool, dialect: Dialect): Promise<Connection> {
  const conn = await pool.getConnection();
  try {
    await conn.query(
      `CREATE ${dialect === 'singlestore' ? 'ROWSTORE ' : ''}TABLE IF NOT EXISTS schema_migrations_lock (
         name VARCHAR(64) NOT NULL PRIMARY KEY,
         locked_at DATETIME(6) NULL
       )`,
    );
    await conn.query('INSERT IGNORE INTO schema_migrations_lock (name) VALUES (?)', [LOCK_NAME]);
    await conn.beginTransaction();
    await conn.query('UPDATE schema_migrations_lock SET locked_at = NOW(6) WHERE name = ?', [LOCK_NAME]);
    return conn;
  } catch (err) {
    await conn.rollback().catch(() => undefined);
    conn.release();
    if ((err as { errno?: number }).errno === 1205) throw new LedgerflowError('LF_MIGRATION', `another migration holds the lock ${LOCK_NAME} (a row of schema_migrations_lock) beyond the lock wait timeout`);
    throw err;
  }
}

/** SingleStore below SINGLESTORE_MIN_VERSION is refused before any migration runs. */
async function checkServerVersion(conn: Connection, dialect: Dialect): Promise<void> {
  if (dialect !== 'singlestore') return;
  const [rows] = await conn.query('SELECT @@memsql_version AS version');
  const version = String((rows as Array<{ version: unknown }>)[0]?.version ?? '');
  if (!versionAtLeast(version, SINGLESTORE_MIN_VERSION)) {
    throw new LedgerflowError('LF_MIGRATION', `SingleStore ${SINGLESTORE_MIN_VERSION} or later is needed (VECTOR(6, F32) in migration 002, docs/singlestore.md); this server is ${version || 'of an unknown version'}`);
  }
}

/**
 * Applies the pending migrations as the migration user, one at a time, under the migration lock
 * so that several pods starting at once never race. Applied versions are recorded with a checksum;
 * an edited migration that already ran is refused (migrations are forward-only).
 */
export async function migrate(config: Config, log: (line: string) => void = () => undefined): Promise<MigrationReport> {
  const migrations = loadMigrations(config.db.dialect);
  const pool = createPool(config, 'migrate', 2);
  const conn = await pool.getConnection().catch(async (err: unknown) => {
    await pool.end().catch(() => undefined);
    throw explainDbStartError(config, 'migrate', err);
  });
  const report: MigrationReport = { applied: [], alreadyApplied: [] };
  let lock: Connection | undefined;
  try {
    await checkServerVersion(conn, config.db.dialect);
    lock = await takeMigrationLock(pool, config.db.dialect);
    await conn.query(
      `CREATE TABLE IF NOT EXISTS schema_migrations (
         version INT NOT NULL PRIMARY KEY,
         name VARCHAR(128) NOT NULL,
         checksum CHAR(64) NOT NULL,
         applied_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)
       )`,
    );
    const [rows] = await conn.query('SELECT version, checksum FROM schema_migrations');
    const done = new Map((rows as Array<{ version: number; checksum: string }>).map((r) => [r.version, r.checksum]));
    for (const m of migrations) {
      const checksum = done.get(m.version);
      if (checksum !== undefined) {
        if (checksum !== m.checksum) {
          throw new LedgerflowError('LF_MIGRATION', `migration ${m.version}_${m.name} changed after it was applied; add a new migration instead`, m.version);
        }
        report.alreadyApplied.push(m.version);
        continue;
      }
      for (const statement of m.statements) await conn.query(statement);
      await conn.query('INSERT INTO schema_migrations (version, name, checksum) VALUES (?, ?, ?)', [m.version, m.name, m.checksum]);
      report.applied.push(m.version);
      log(`migration ${m.version}_${m.name} applied (${config.db.dialect})`);
    }
    return report;
  } finally {
    if (lock) {
      // Nothing to keep: the rollback ends the transaction that holds the lock row.
      await lock.rollback().catch(() => undefined);
      lock.release();
    }
    conn.release();
    await pool.end();
  }
}
