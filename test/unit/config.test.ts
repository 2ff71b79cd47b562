import assert from 'node:assert/strict';
import { test } from 'node:test';
import fs from 'node:fs';
import path from 'node:path';
import { PIPELINE_SETTINGS } from '../../src/bench';
import { describeSettings, loadConfig, settingsMarkdown, withOverrides } from '../../src/config';

test('defaults load and point at the local stack', () => {
  const config = loadConfig({}, {});
  assert.deepEqual(config.kafka.brokers, ['127.0.0.1:9092']);
  assert.equal(config.kafka.partitions, 3);
  assert.equal(config.db.dialect, 'mariadb');
});

const bad: Array<[Record<string, string>, RegExp]> = [
  [{ LF_KAFKA_PARTITIONS: '0' }, /kafka\.partitions.*LF_KAFKA_PARTITIONS/],
  [{ LF_DB_PORT: '70000' }, /db\.port.*LF_DB_PORT/],
  [{ LF_DB_DIALECT: 'postgres' }, /db\.dialect.*LF_DB_DIALECT/],
  [{ LF_KAFKA_BROKERS: 'not a broker' }, /kafka\.brokers.*LF_KAFKA_BROKERS/],
  [{ LF_RULES_MAX_AMOUNT_MINOR: '12.5' }, /rules\.maxAmountMinor.*LF_RULES_MAX_AMOUNT_MINOR/],
  [{ LF_RULES_CURRENCIES: 'EUR,euro' }, /rules\.currencies.*LF_RULES_CURRENCIES/],
  [{ LF_CONSUMER_BATCH_MAX_EVENTS: '-1' }, /consumer\.batchMaxEvents.*LF_CONSUMER_BATCH_MAX_EVENTS/],
  [{ LF_KAFKA_COMPRESSION: 'brotli' }, /kafka\.compression.*LF_KAFKA_COMPRESSION/],
];
for (const [env, message] of bad) {
  test(`bad setting ${Object.keys(env)[0]} fails naming the setting and env var`, () => {
    assert.throws(() => loadConfig({}, env), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'LF_CONFIG');
      assert.match(err.message, message);
      return true;
    });
  });
}

test('unknown override keys are refused', () => {
  assert.throws(() => loadConfig({ 'kafka.nope': 1 }, {}), { code: 'LF_CONFIG' });
});

test('withOverrides applies dotted settings to a loaded config without touching the original', () => {
  const base = loadConfig({ 'kafka.topic': 'from-env' }, {});
  const fast = withOverrides(base, PIPELINE_SETTINGS);
  assert.equal(fast.kafka.partitions, 12);
  assert.equal(fast.consumer.batchMaxEvents, PIPELINE_SETTINGS['consumer.batchMaxEvents']);
  assert.equal(fast.worker.maxConcurrentActivities, 16);
  assert.equal(fast.db.poolSize, 16);
  assert.equal(fast.kafka.topic, 'from-env', 'other settings are kept');
  assert.equal(base.kafka.partitions, 3, 'the original is unchanged');
  assert.throws(() => withOverrides(base, { 'kafka.nope': 1 }), /unknown setting kafka\.nope/);
  assert.throws(() => withOverrides(base, { 'kafka.partitions': '12' }), /kafka\.partitions: expected a number/);
});

test('every setting has an LF_ env var and a doc; secrets are marked sensitive with empty defaults', () => {
  const settings = describeSettings();
  assert.ok(settings.length > 30);
  for (const s of settings) {
    assert.match(s.env, /^LF_[A-Z0-9_]+$/, s.key);
    assert.ok(s.doc.length > 5, s.key);
  }
  const sensitive = settings.filter((s) => s.sensitive).map((s) => s.env).sort();
  assert.deepEqual(sensitive, ['LF_DB_MIGRATION_PASSWORD', 'LF_DB_PASSWORD', 'LF_FRAUD_REVIEW_TOKEN', 'LF_KAFKA_SASL_PASSWORD', 'LF_TEMPORAL_API_KEY']);
  for (const s of settings.filter((x) => x.sensitive)) assert.equal(s.default, '');
});

test('docs/configuration.md is generated from the schema and in sync', () => {
  const file = path.resolve(__dirname, '..', '..', 'docs', 'configuration.md');
  assert.equal(fs.readFileSync(file, 'utf8'), settingsMarkdown(), 'run: npx tsx src/cli.ts config > docs/configuration.md');
});
