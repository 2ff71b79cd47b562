import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadMigrations, splitStatements } from '../../../src/store/dialect';

test('both dialects have the same migration versions', () => {
  const maria = loadMigrations('mariadb').map((m) => m.version);
  const single = loadMigrations('singlestore').map((m) => m.version);
  assert.deepEqual(maria, single);
  assert.ok(maria.length >= 1);
});

test('no table stores money as floating point', () => {
  for (const dialect of ['mariadb', 'singlestore'] as const) {
    for (const m of loadMigrations(dialect)) {
      for (const s of m.statements) assert.doesNotMatch(s, /\b(DOUBLE|FLOAT|REAL)\b/i, `${dialect} ${m.name}`);
    }
  }
});

/** Columns of a key clause like "UNIQUE KEY uk (account, id) USING HASH". */
function keyColumns(clause: string): string[] {
  const inner = /\(([^)]*)\)/.exec(clause)?.[1] ?? '';
  return inner.split(',').map((c) => c.trim());
}

test('SingleStore DDL: sharded by account, sort key on time, unique keys contain the shard key', () => {
  const statements = loadMigrations('singlestore').flatMap((m) => m.statements);
  const tx = statements.find((s) => /CREATE TABLE IF NOT EXISTS transactions\b/.test(s));
  assert.ok(tx, 'transactions DDL rendered');
  assert.match(tx, /SHARD KEY \(account\)/);
  assert.match(tx, /SORT KEY \(occurred_at\)/);
  assert.match(tx, /amount_minor\s+BIGINT\s+NOT NULL/);
  for (const statement of statements) {
    const shard = /SHARD KEY \(([^)]*)\)/.exec(statement)?.[1];
    if (!shard) continue;
    const uniques = statement.split('\n').filter((l) => /^\s*(UNIQUE KEY|PRIMARY KEY)/.test(l));
    for (const u of uniques) {
      for (const col of shard.split(',').map((c) => c.trim())) assert.ok(keyColumns(u).includes(col), `${u} must contain shard key ${col}`);
    }
  }
});

test('MariaDB DDL: one row per transaction id, history index on (account, occurred_at)', () => {
  const tx = loadMigrations('mariadb').flatMap((m) => m.statements).find((s) => /CREATE TABLE IF NOT EXISTS transactions\b/.test(s));
  assert.ok(tx);
  assert.match(tx, /PRIMARY KEY \(id\)/);
  assert.match(tx, /KEY ix_account_time \(account, occurred_at, id\)/);
});

test('splitStatements drops comments and splits on statement ends', () => {
  assert.deepEqual(splitStatements('-- c\nCREATE TABLE a (x INT);\n\nCREATE TABLE b (y INT);\n'), ['CREATE TABLE a (x INT)', 'CREATE TABLE b (y INT)']);
});

test('SingleStore fraud DDL: VECTOR embeddings, every fraud table sharded, reviews keyed by account', () => {
  const fraud = loadMigrations('singlestore').find((m) => m.name === 'fraud');
  assert.ok(fraud, '002_fraud rendered for SingleStore');
  const table = (name: string) => fraud.statements.find((s) => new RegExp(`CREATE (ROWSTORE )?TABLE IF NOT EXISTS ${name}\\b`).test(s));
  for (const name of ['account_stats', 'fraud_flags', 'fraud_vectors', 'reviews', 'review_audit']) {
    const ddl = table(name);
    assert.ok(ddl, `${name} rendered`);
    assert.match(ddl, /SHARD KEY \(/, `${name} has a shard key`);
  }
  assert.match(table('fraud_vectors') as string, /embedding\s+VECTOR\(6, F32\) NOT NULL/);
  assert.match(table('fraud_flags') as string, /embedding\s+VECTOR\(6, F32\) NULL/);
  assert.match(table('reviews') as string, /PRIMARY KEY \(account, tx_id\)/);
  const maria = loadMigrations('mariadb').find((m) => m.name === 'fraud');
  assert.ok(maria?.statements.some((s) => /CREATE TABLE IF NOT EXISTS fraud_vectors\b[\s\S]*embedding\s+TEXT/.test(s)), 'MariaDB keeps the vector as JSON text');
});

test('004_fraud_stats: both dialects add the compact binary statistics column to account_stats', () => {
  for (const dialect of ['mariadb', 'singlestore'] as const) {
    const m = loadMigrations(dialect).find((x) => x.name === 'fraud_stats');
    assert.ok(m, `004_fraud_stats rendered for ${dialect}`);
    assert.equal(m.version, 4);
    assert.deepEqual(m.statements, ['ALTER TABLE account_stats ADD COLUMN stats VARBINARY(1024) NULL']);
  }
});

test('003_balance_credits: both dialects create the pending-credit table keyed by (account, currency, tx_id)', () => {
  for (const dialect of ['mariadb', 'singlestore'] as const) {
    const m = loadMigrations(dialect).find((x) => x.name === 'balance_credits');
    assert.ok(m, `003_balance_credits rendered for ${dialect}`);
    assert.equal(m.version, 3);
    assert.equal(m.statements.length, 1);
    assert.match(m.statements[0] as string, /CREATE (ROWSTORE )?TABLE IF NOT EXISTS balance_credits/);
    assert.match(m.statements[0] as string, /PRIMARY KEY \(account, currency, tx_id\)/);
    if (dialect === 'singlestore') assert.match(m.statements[0] as string, /SHARD KEY \(account\)/);
  }
});

test('coarse rollups (005) exist in both dialects; MariaDB drops the unused amount index', () => {
  for (const dialect of ['mariadb', 'singlestore'] as const) {
    const m = loadMigrations(dialect).find((x) => x.version === 5);
    assert.ok(m, `${dialect}: migration 005 rendered`);
    assert.ok(m.statements.some((s) => /CREATE (ROWSTORE )?TABLE IF NOT EXISTS rollup_day\b[\s\S]*PRIMARY KEY \(day, type, currency, status, reason\)/.test(s)), `${dialect}: rollup_day`);
    assert.ok(m.statements.some((s) => /CREATE (ROWSTORE )?TABLE IF NOT EXISTS rollup_account_day\b[\s\S]*PRIMARY KEY \(day, currency, account\)/.test(s)), `${dialect}: rollup_account_day`);
  }
  const single = loadMigrations('singlestore').find((x) => x.version === 5);
  assert.match(single?.statements.find((s) => /rollup_account_day/.test(s)) ?? '', /SHARD KEY \(account\)/);
  assert.ok(loadMigrations('mariadb').find((x) => x.version === 5)?.statements.includes('ALTER TABLE transactions DROP INDEX IF EXISTS ix_amount'));
});
