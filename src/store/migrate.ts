import type { Config } from '../config';
import { LedgerflowError } from '../domain/errors';
import { loadMigrations } from './dialect';
import { createPool } from './pool';
import { explainDbStartError } from './security';

export interface MigrationReport {
  applied: number[];
  alreadyApplied: number[];
}

const LOCK_NAME = 'ledgerflow_migrate';
const LOCK_WAIT_S = 60;

/**
 * Applies the pending migrations as the migration user, one at a time, under a named lock so
 * that several pods starting at once never race. Applied versions are recorded with a checksum;
 * an edited migration that already ran is refused (migrations are forward-only).
 */
export async function migrate(config: Config, log: (line: string) => void = () => undefined): Promise<MigrationReport> {
  const migrations = loadMigrations(config.db.dialect);
  const pool = createPool(config, 'migrate', 1);
  const conn = await pool.getConnection().catch(async (err: unknown) => {
    await pool.end().catch(() => undefined);
    throw explainDbStartError(config, 'migrate', err);
  });
  const report: MigrationReport = { applied: [], alreadyApplied: [] };
  try {
    const [lock] = await conn.query('SELECT GET_LOCK(?, ?) AS got', [LOCK_NAME, LOCK_WAIT_S]);
    if ((lock as Array<{ got: number }>)[0]?.got !== 1) {
      throw new LedgerflowError('LF_MIGRATION', `another migration holds the lock ${LOCK_NAME} for over ${LOCK_WAIT_S}s`);
    }
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
    await conn.query('SELECT RELEASE_LOCK(?)', [LOCK_NAME]);
    return report;
  } finally {
    conn.release();
    await pool.end();
  }
}
