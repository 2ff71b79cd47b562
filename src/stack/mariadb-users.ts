import path from 'node:path';
import type { Connection } from 'mysql2/promise';
import { readOrCreateSecret } from './secrets';
import { StackContext } from './service';

/**
 * The database and its least-privilege accounts, created idempotently on every `stack up`.
 * Accounts exist for 'localhost' (unix socket) and '127.0.0.1' (TCP with skip-name-resolve), never '%';
 * plus one per network of stack.clientNetworks (the cluster's pods when the stack serves the node).
 */
export const READ_ONLY_USER = 'ledgerflow_ro';
export const ACCOUNT_HOSTS = ['localhost', '127.0.0.1'] as const;

/** MariaDB's host pattern of a network: 'a.b.c.d/m.m.m.m' (it takes netmasks, not prefix lengths). */
export function accountHostOfNetwork(cidr: string): string {
  const [address, prefix] = cidr.split('/');
  const bits = Number(prefix);
  const mask = [24, 16, 8, 0].map((shift) => Math.floor((bits === 0 ? 0 : (2 ** 32 - 2 ** (32 - bits))) / 2 ** shift) % 256).join('.');
  return bits === 32 ? (address as string) : `${address}/${mask}`;
}

export function accountHosts(ctx: StackContext): string[] {
  const networks = ctx.config.stack.clientNetworks.split(',').map((c) => c.trim()).filter(Boolean);
  return [...ACCOUNT_HOSTS, ...networks.map(accountHostOfNetwork)];
}

/** Migrations need DDL on the one schema, nothing server-wide (no SUPER, FILE, GRANT OPTION, *.*). */
const MIGRATION_PRIVILEGES = [
  'CREATE',
  'ALTER',
  'DROP',
  'INDEX',
  'REFERENCES',
  'SELECT',
  'INSERT',
  'UPDATE',
  'DELETE',
  'CREATE VIEW',
  'SHOW VIEW',
  'TRIGGER',
  'EXECUTE',
  'CREATE ROUTINE',
  'ALTER ROUTINE',
  'LOCK TABLES',
].join(', ');
/** The pipeline only reads and writes rows; it can never change the schema. */
const APP_PRIVILEGES = 'SELECT, INSERT, UPDATE, DELETE';
/** Dashboards (Grafana's SQL data source) only read. */
const READ_ONLY_PRIVILEGES = 'SELECT';

/**
 * Databases the store conformance suite (`npm run test:store`) creates and drops for itself: the
 * migration and app accounts get their usual privileges on this name pattern (docs/singlestore.md).
 */
export const CONFORMANCE_DB_PREFIX = 'lf_conformance_';
const CONFORMANCE_DB_PATTERN = `${CONFORMANCE_DB_PREFIX.replace(/_/g, '\\_')}%`;

export interface DbAccount {
  user: string;
  passwordFile: string;
  privileges: string;
}

/** Password files live in the stack's secrets dir; config's db.passwordFile defaults point there. */
export function dbAccounts(ctx: StackContext): DbAccount[] {
  const secret = (name: string) => path.join(ctx.layout.secrets, name);
  return [
    { user: ctx.config.db.migrationUser, passwordFile: secret('db-migrate.password'), privileges: MIGRATION_PRIVILEGES },
    { user: ctx.config.db.user, passwordFile: secret('db-app.password'), privileges: APP_PRIVILEGES },
    { user: READ_ONLY_USER, passwordFile: secret('db-ro.password'), privileges: READ_ONLY_PRIVILEGES },
  ];
}

/** Creates the schema and accounts, and aligns each account's password with its file. */
export async function provisionDatabase(ctx: StackContext, admin: Connection): Promise<void> {
  const dbName = ctx.config.db.name;
  await admin.query('CREATE DATABASE IF NOT EXISTS ?? CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci', [dbName]);
  for (const account of dbAccounts(ctx)) {
    const password = readOrCreateSecret(account.passwordFile);
    for (const host of accountHosts(ctx)) {
      await admin.query('CREATE USER IF NOT EXISTS ?@? IDENTIFIED BY ?', [account.user, host, password]);
      // The file is the truth: if the account predates it (or was changed by hand), follow the file.
      await admin.query('ALTER USER ?@? IDENTIFIED BY ?', [account.user, host, password]);
      // Privilege lists are constants of this module, not input; only names go through placeholders.
      await admin.query(`GRANT ${account.privileges} ON ??.* TO ?@?`, [dbName, account.user, host]);
      if (account.privileges !== READ_ONLY_PRIVILEGES) await admin.query(`GRANT ${account.privileges} ON ??.* TO ?@?`, [CONFORMANCE_DB_PATTERN, account.user, host]);
      // The secure profile: this account can never log in without TLS, whatever the server setting.
      if (ctx.profile === 'secure') await admin.query('ALTER USER ?@? REQUIRE SSL', [account.user, host]);
    }
  }
}
