import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { LedgerflowError } from '../domain/errors';
import type { CreditDelete, RowWrite } from './ledger';

export type Dialect = 'mariadb' | 'singlestore';

/**
 * How the batch path writes on each store, in one place for the worker and the store conformance
 * suite (test/store/). SingleStore: multi-row INSERT instead of LOAD DATA (not proven to stay
 * inside the batch's transaction there), ids also in the id-sharded `transaction_ids` (unique keys
 * contain the shard key, decision 021), shared rows one statement each, folded credits deleted
 * by an IN list of keys (MariaDB: a key-driven join, see deleteFoldedCredits; decision 027).
 */
export interface DialectWrites {
  rowWrite: RowWrite;
  idRegistry: boolean;
  sharedRowsPerStatement?: number;
  creditDelete?: CreditDelete;
}

export function dialectWrites(dialect: Dialect): DialectWrites {
  return dialect === 'singlestore'
    ? { rowWrite: 'insert', idRegistry: true, sharedRowsPerStatement: 1, creditDelete: 'in-list' }
    : { rowWrite: 'load', idRegistry: false, creditDelete: 'join' };
}

/**
 * The oldest SingleStore the migrations run on: `VECTOR(6, F32)` (migration 002) is the native
 * vector type, documented from 8.5 (8.1 documents vectors as BLOBs only). The migration runner
 * refuses an older server before applying anything (docs/singlestore.md).
 */
export const SINGLESTORE_MIN_VERSION = '8.5';

/** Whether a server version string ("8.5.12", "8.9.3-4bf2c7b9") is at least `minimum` ("8.5"). */
export function versionAtLeast(version: string, minimum: string): boolean {
  const parts = (v: string) => (/^(\d+)(?:\.(\d+))?/.exec(v.trim()) ?? []).slice(1, 3).map((n) => Number(n ?? 0));
  const [major, minor] = parts(version);
  const [minMajor, minMinor] = parts(minimum);
  if (major === undefined || minor === undefined || minMajor === undefined || minMinor === undefined || Number.isNaN(major)) return false;
  return major > minMajor || (major === minMajor && minor >= minMinor);
}

export interface Migration {
  version: number;
  name: string;
  dialect: Dialect;
  checksum: string;
  statements: string[];
}

/** `sql/migrations` of the package: found upward from here, so it works from src/ (tsx) and dist/src/ (image). */
function findMigrationsDir(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'sql', 'migrations');
    if (fs.existsSync(candidate)) return candidate;
    if (path.dirname(dir) === dir) throw new LedgerflowError('LF_MIGRATION', `no sql/migrations directory above ${__dirname}`);
  }
}
const FILE_PATTERN = /^(\d{3})_([a-z0-9_]+)\.(mariadb|singlestore)\.sql$/;

/** Splits a DDL file into statements: `;` at line end ends one; `--` lines are comments. */
export function splitStatements(sql: string): string[] {
  const withoutComments = sql
    .split('\n')
    .filter((line) => !line.trim().startsWith('--'))
    .join('\n');
  return withoutComments
    .split(/;\s*(?:\n|$)/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/** Every migration of one dialect, in version order; each version must exist in both dialects. */
export function loadMigrations(dialect: Dialect, dir = findMigrationsDir()): Migration[] {
  const files = fs.readdirSync(dir).filter((f) => FILE_PATTERN.test(f));
  const versions = new Map<number, Set<string>>();
  const out: Migration[] = [];
  for (const file of files) {
    const [, version, name, fileDialect] = FILE_PATTERN.exec(file) as RegExpExecArray;
    const v = Number(version);
    versions.set(v, (versions.get(v) ?? new Set()).add(fileDialect as string));
    if (fileDialect !== dialect) continue;
    const sql = fs.readFileSync(path.join(dir, file), 'utf8');
    out.push({
      version: v,
      name: name as string,
      dialect,
      checksum: createHash('sha256').update(sql).digest('hex'),
      statements: splitStatements(sql),
    });
  }
  for (const [v, dialects] of versions) {
    if (dialects.size !== 2) {
      throw new LedgerflowError('LF_MIGRATION', `migration ${v} lacks a variant: has only ${[...dialects].join(', ')}`, v);
    }
  }
  return out.sort((a, b) => a.version - b.version);
}
