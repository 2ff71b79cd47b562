import assert from 'node:assert/strict';
import { test } from 'node:test';
import { contentOf } from '../../../src/domain/identity';
import { loadMigrations, SINGLESTORE_MIN_VERSION, splitStatements, versionAtLeast } from '../../../src/store/dialect';
import { contentFingerprint, deleteStoredRows, moveStoredSource, registerIds, storedVariantsSql } from '../../../src/store/identity';
import type { Connection } from '../../../src/store/pool';

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

test('parked events (006) and transaction conflicts (007) exist in both dialects; SingleStore shards them so their keys hold', () => {
  for (const dialect of ['mariadb', 'singlestore'] as const) {
    const all = loadMigrations(dialect);
    assert.match(all.find((m) => m.version === 6)?.statements.join('\n') ?? '', /TABLE IF NOT EXISTS parked_events\b[\s\S]*PRIMARY KEY \(source_topic, source_partition, source_offset\)/, `${dialect}: 006`);
    assert.match(all.find((m) => m.version === 7)?.statements.join('\n') ?? '', /TABLE IF NOT EXISTS transaction_conflicts\b[\s\S]*PRIMARY KEY \(tx_id, source_topic, variant_partition, variant_offset\)/, `${dialect}: 007`);
  }
  const single = loadMigrations('singlestore').find((m) => m.version === 7)?.statements ?? [];
  assert.match(single.find((s) => /transaction_conflicts/.test(s)) ?? '', /SHARD KEY \(tx_id\)/);
});

test('a transaction id is unique across accounts on both stores: MariaDB by its primary key, SingleStore by an id-sharded table written with every row', () => {
  const maria = loadMigrations('mariadb').flatMap((m) => m.statements);
  assert.ok(!maria.some((s) => /transaction_ids/.test(s)), 'MariaDB needs no id table: transactions is keyed by id');
  const single = loadMigrations('singlestore').flatMap((m) => m.statements);
  const ids = single.find((s) => /CREATE ROWSTORE TABLE IF NOT EXISTS transaction_ids\b/.test(s));
  assert.ok(ids, 'SingleStore has transaction_ids');
  assert.match(ids, /PRIMARY KEY \(id\)/);
  assert.match(ids, /SHARD KEY \(id\)/);
  assert.ok(single.some((s) => /INSERT IGNORE INTO transaction_ids[\s\S]*FROM transactions/.test(s)), 'rows stored before 007 are registered');
  // The lookup that finds the stored row of an id on another account goes through that table.
  assert.match(storedVariantsSql(true), /FROM transaction_ids i JOIN transactions t ON t\.account = i\.account AND t\.id = i\.id WHERE i\.id IN \(\?\)/);
  assert.match(storedVariantsSql(false), /FROM transactions WHERE id IN \(\?\)/);
});

test('the SingleStore write path registers, moves and removes ids in transaction_ids in the batch\'s transaction; MariaDB does not touch it', async () => {
  const statements: string[] = [];
  const conn = { query: async (sql: string) => (statements.push(sql), [{ affectedRows: 1 }]) } as unknown as Connection;
  const event = { id: '019a0000-0000-7000-8000-000000000001', account: 'a', type: 'credit' as const, amountMinor: '5', currency: 'EUR', occurredAt: '2026-11-25T08:01:30.000Z', partition: 1, offset: '7' };
  await registerIds(conn, [{ event, status: 'applied', reason: null }]);
  assert.deepEqual(statements, ['INSERT INTO transaction_ids (id, account, fingerprint, source_partition, source_offset) VALUES ?']);
  const stored = { ...event, counterparty: null, description: null, status: 'applied' as const, reason: null, batchId: 'b' };
  for (const registry of [true, false]) {
    statements.length = 0;
    await deleteStoredRows(conn, [stored], registry);
    await moveStoredSource(conn, stored, { partition: 0, offset: '3' }, 'b2', registry);
    assert.equal(statements.filter((s) => /transaction_ids/.test(s)).length, registry ? 2 : 0, `registry ${registry}`);
    assert.ok(statements.every((s) => !/transactions /.test(s) || /account = \? AND id = \?/.test(s)), 'rows are addressed by (account, id): the SingleStore unique key');
  }
});

test('the content fingerprint is one definition: equal content, equal fingerprint; any field changed, another', () => {
  const base = { account: 'a', type: 'credit' as const, amountMinor: '5', currency: 'EUR', occurredAt: '2026-11-25T08:01:30.000Z' };
  const f = contentFingerprint(contentOf(base));
  assert.equal(contentFingerprint(contentOf({ ...base })), f);
  for (const other of [{ amountMinor: '6' }, { account: 'b' }, { description: '' }, { occurredAt: '2026-11-25T08:01:30.001Z' }]) assert.notEqual(contentFingerprint(contentOf({ ...base, ...other })), f);
});

test('the SingleStore version gate: 8.5 and later pass, older or unreadable versions do not', () => {
  assert.equal(SINGLESTORE_MIN_VERSION, '8.5');
  for (const v of ['8.5.0', '8.5.12', '8.9.3-4bf2c7b9ab', '9.0.1', '10.0']) assert.equal(versionAtLeast(v, SINGLESTORE_MIN_VERSION), true, v);
  for (const v of ['8.1.32', '7.8.19', '8.0', '', 'unknown']) assert.equal(versionAtLeast(v, SINGLESTORE_MIN_VERSION), false, v);
});
