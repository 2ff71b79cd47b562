/**
 * The SingleStore DDL and the statements in src/ keep SingleStore's key rules (decision 027): a
 * static check, since no SingleStore runs here. Each rule is also shown to catch a breach.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { assignmentsIn, assignmentViolations, keyViolations, singlestoreStatements, tablesOf } from '../../helpers/singlestoreDdl';

const root = path.resolve(__dirname, '../../..');
const tables = tablesOf(singlestoreStatements(path.join(root, 'sql', 'migrations')));

function sourcesUnder(dir: string): Array<{ file: string; text: string }> {
  return fs.readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => path.join(e.parentPath, e.name))
    .map((file) => ({ file: path.relative(root, file), text: fs.readFileSync(file, 'utf8') }));
}

test('every SingleStore table is read, with its shard columns', () => {
  for (const name of ['transactions', 'balances', 'balance_credits', 'transaction_ids', 'fraud_flags', 'review_audit', 'rollup_minute', 'rollup_day', 'rollup_account_day', 'parked_events']) {
    assert.ok(tables.has(name), `${name} found in the SingleStore migrations`);
  }
  assert.deepEqual(tables.get('transactions')?.effectiveShard, ['account']);
  assert.deepEqual(tables.get('transaction_ids')?.effectiveShard, ['id']);
  // No SHARD KEY: sharded on the primary key, as SingleStore documents.
  assert.deepEqual(tables.get('rollup_minute')?.effectiveShard, ['minute', 'type', 'currency', 'status', 'reason']);
  assert.equal(tables.get('transactions')?.rowstore, false);
  assert.equal(tables.get('balances')?.rowstore, true);
});

test('every PRIMARY and UNIQUE key of the SingleStore DDL contains its shard key; AUTO_INCREMENT is BIGINT', () => {
  assert.deepEqual(keyViolations(tables), []);
});

test('the key rule catches a unique key without the shard key', () => {
  const bad = tablesOf([{ source: 'x.sql', sql: 'CREATE TABLE t (\n id CHAR(36) NOT NULL,\n account VARCHAR(64) NOT NULL,\n n INT AUTO_INCREMENT,\n UNIQUE KEY uk_id (id) USING HASH,\n SHARD KEY (account)\n)' }]);
  const found = keyViolations(bad);
  assert.equal(found.length, 2, found.join('\n'));
  assert.match(found[0] as string, /uk_id \(id\) lacks shard key column\(s\) account/);
  assert.match(found[1] as string, /AUTO_INCREMENT but INT/);
});

test('no upsert or UPDATE in src/ assigns a shard key, nor a unique key column of a columnstore table', () => {
  const sources = sourcesUnder(path.join(root, 'src'));
  const upserted = new Set(sources.flatMap(({ text }) => assignmentsIn(text).filter((a) => a.kind === 'upsert').map((a) => a.table)));
  // The check reads the statements it is about (not an empty set).
  for (const table of ['balances', 'rollup_minute', 'rollup_day', 'fraud_flags', 'transaction_conflicts', 'parked_events']) assert.ok(upserted.has(table), `an upsert of ${table} found in src/`);
  const found = sources.flatMap(({ file, text }) => assignmentViolations(tables, text, file));
  assert.deepEqual(found, []);
});

test('the assignment rule catches the upserts SingleStore refuses (as they were before decision 027)', () => {
  const columnstore = "`INSERT INTO fraud_flags (tx_id, account, batch_id) VALUES ? ON DUPLICATE KEY UPDATE tx_id = tx_id`";
  const rowstoreShard = "`INSERT INTO transaction_conflicts (tx_id, batch_id) VALUES ? ON DUPLICATE KEY UPDATE tx_id = tx_id`";
  const update = "'UPDATE balances SET account = ?, balance_minor = 0 WHERE account = ?'";
  assert.equal(assignmentViolations(tables, columnstore, 'a.ts').length, 1);
  assert.equal(assignmentViolations(tables, rowstoreShard, 'b.ts').length, 1);
  assert.equal(assignmentViolations(tables, update, 'c.ts').length, 1);
  // A rowstore upsert may assign a primary key column outside the shard key; values are fine.
  assert.deepEqual(assignmentViolations(tables, "`INSERT INTO balances (account, currency) VALUES ? ON DUPLICATE KEY UPDATE balance_minor = VALUES(balance_minor), version = version + 1`", 'd.ts'), []);
});
