/** values.yaml documents itself; values.schema.json (generated from it) rejects bad values. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import YAML from 'yaml';
import { chartDrift } from '../../../charts/tools/sync';
import { generateSchema, parseParams, valueLeaves } from '../../../charts/tools/values-docs';
import { CHART_DIR, render, renderError } from './render';

const valuesText = fs.readFileSync(path.join(CHART_DIR, 'values.yaml'), 'utf8');

test('README values table, values.schema.json and dashboards/ are in sync with their sources', () => {
  assert.deepEqual(chartDrift(), [], 'run: npx tsx charts/tools/sync.ts --write');
});

test('every value in values.yaml has a @param with a description, and the README lists it with its default', () => {
  const params = parseParams(valuesText);
  const documented = new Set(params.map((p) => p.path));
  const leaves = valueLeaves(YAML.parse(valuesText), documented);
  assert.deepEqual(leaves.filter((l) => !documented.has(l)), [], 'values without a ## @param comment');
  const readme = fs.readFileSync(path.join(CHART_DIR, 'README.md'), 'utf8');
  for (const p of params) {
    assert.ok(p.description.length > 10, `${p.path}: no description`);
    assert.ok(readme.includes(`| \`${p.path}\` |`), `README lacks ${p.path}`);
  }
});

test('the generated schema is closed and requires every documented key', () => {
  const schema = generateSchema(parseParams(valuesText)) as { additionalProperties: boolean; required: string[] };
  assert.equal(schema.additionalProperties, false);
  assert.ok(schema.required.includes('kafka') && schema.required.includes('db'));
});

const BAD_VALUES: [string[], string[], RegExp][] = [
  [['kafka.partitions=0'], [], /minimum/],
  [[], ['kafka.partitions=two'], /integer/],
  [[], ['consumer.replicas=two'], /integer/],
  [[], ['db.dialect=oracle'], /mariadb|enum|value must be one of/],
  [[], ['kafka.sasl.mechanism=gssapi'], /enum|value must be one of/],
  [[], ['temporal.address=temporal-without-port'], /pattern|does not match/],
  [['db.port=70000'], [], /maximum/],
  [['singlestore.leaves=0'], [], /minimum/],
  [['worker.workersPerLeaf=-1'], [], /minimum/],
  [['consumer.autoscaling.targetCPU=150'], [], /maximum/],
  [[], ['image.pullPolicy=Sometimes'], /enum|value must be one of/],
  [[], ['serviceMonitor.interval=30 seconds'], /pattern|does not match/],
  [[], ['db.existingSecret='], /minLength|length must be/],
  [['consumer.resources.limits=null'], [], /limits|required|missing/],
  [[], ['db.passwrd=typo'], /additional|not allowed/],
  [[], ['extraConfig.not-an-env=1'], /pattern|propertyNames|does not match/],
];

test('values.schema.json rejects bad values', () => {
  for (const [set, setString, expected] of BAD_VALUES) {
    const err = renderError({ set, setString });
    assert.match(err, /values don't meet the specifications of the schema|schema/i, `${[...set, ...setString]}: ${err}`);
    assert.match(err, expected, `${[...set, ...setString]}: ${err}`);
  }
});

test('combinations the schema cannot express are refused by the templates', () => {
  assert.match(renderError({ setString: ['kafka.sasl.mechanism=plain'] }), /kafka.sasl.existingSecret is required/);
  assert.match(
    renderError({ setString: ['temporal.tls.existingSecret=mtls'] }),
    /temporal.tls.existingSecret needs temporal.tls.enabled/,
  );
});

test('good values render: defaults, and a full override through --set', () => {
  assert.ok(render().length > 10);
  const objects = render({
    set: ['kafka.partitions=6', 'producer.enabled=true', 'networkPolicy.enabled=false', 'consumer.pdb.enabled=false'],
    setString: ['db.dialect=singlestore', 'kafka.sasl.mechanism=scram-sha-256', 'kafka.sasl.existingSecret=kafka'],
  });
  assert.ok(objects.some((o) => o.kind === 'Deployment' && o.metadata.name.endsWith('producer')));
  assert.ok(!objects.some((o) => o.kind === 'NetworkPolicy'));
});
