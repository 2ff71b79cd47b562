/**
 * The conformance suite's own database on the user's store: created here (never reused: CREATE
 * DATABASE without IF NOT EXISTS), marked with this run's token, migrated with the real runner,
 * and dropped only if it still carries that token. Nothing else on the server is touched.
 */
import { randomBytes } from 'node:crypto';
import { loadConfig, type Config } from '../../src/config';
import { CONFORMANCE_DB_PREFIX } from '../../src/stack/mariadb-users';
import { migrate } from '../../src/store/migrate';
import { createPool } from '../../src/store/pool';

const OWNER_TABLE = 'lf_conformance_owner';

export interface ConformanceDb {
  config: Config;
  drop(): Promise<void>;
}

/** Settings from the usual LF_DB_* environment, with this run's database name; migrated unless told not to. */
export async function createConformanceDb(env: NodeJS.ProcessEnv = process.env, options: { migrate?: boolean } = {}): Promise<ConformanceDb> {
  const name = `${CONFORMANCE_DB_PREFIX}${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  const token = randomBytes(16).toString('hex');
  const server = createPool(loadConfig({ 'db.name': '' }, env), 'migrate', 1);
  try {
    await server.query('CREATE DATABASE ??', [name]).catch((err: { errno?: number; message?: string }) => {
      if (err.errno === 1007) throw new Error(`database ${name} exists already: the conformance suite uses only a database it creates`);
      throw new Error(`the migration user cannot create database ${name} (${err.message}): see docs/singlestore.md for the privileges the suite needs`);
    });
  } finally {
    await server.end();
  }
  const config = loadConfig({ 'db.name': name }, env);
  const owned = createPool(config, 'migrate', 1);
  try {
    await owned.query(`CREATE TABLE ${OWNER_TABLE} (token CHAR(32) NOT NULL, PRIMARY KEY (token))`);
    await owned.query(`INSERT INTO ${OWNER_TABLE} (token) VALUES (?)`, [token]);
  } finally {
    await owned.end();
  }
  if (options.migrate !== false) await migrate(config);
  return {
    config,
    drop: async () => {
      const pool = createPool(config, 'migrate', 1);
      try {
        const [rows] = await pool.query(`SELECT token FROM ${OWNER_TABLE}`).catch(() => [[]]);
        const tokens = (rows as Array<{ token: string }>).map((r) => r.token);
        if (!name.startsWith(CONFORMANCE_DB_PREFIX) || tokens.length !== 1 || tokens[0] !== token) {
          throw new Error(`refusing to drop ${name}: it does not carry this run's token, so this run did not create it`);
        }
        await pool.query('DROP DATABASE ??', [name]);
      } finally {
        await pool.end();
      }
    },
  };
}
