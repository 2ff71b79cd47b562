/** The Prometheus rules of grafana/prometheus/: valid (promtool check), and every alert proven by promtool test. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import YAML from 'yaml';
import { checkRules, promtoolPath, RULES_DIR, testRules } from '../helpers/promtool';

interface Rule {
  record?: string;
  alert?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface RuleFile {
  groups: Array<{ name: string; rules: Rule[] }>;
}
interface RuleTestFile {
  rule_files: string[];
  tests: Array<{
    name: string;
    alert_rule_test?: Array<{ alertname: string; exp_alerts: unknown[] }>;
    promql_expr_test?: Array<{ expr: string }>;
  }>;
}

const filesEnding = (suffix: string) =>
  fs.readdirSync(RULES_DIR).filter((f) => f.endsWith(suffix)).sort();
const ruleFiles = filesEnding('.rules.yml');
const ruleTestFiles = filesEnding('.rules.test.yml');
const rules = ruleFiles.flatMap((f) => (YAML.parse(fs.readFileSync(path.join(RULES_DIR, f), 'utf8')) as RuleFile).groups.flatMap((g) => g.rules));
const ruleTests = ruleTestFiles.map((f) => YAML.parse(fs.readFileSync(path.join(RULES_DIR, f), 'utf8')) as RuleTestFile);

test('promtool is installed (the stack installs it with the Debian prometheus package)', () => {
  assert.ok(fs.existsSync(promtoolPath()));
});

test('there are rule files and rule test files', () => {
  assert.ok(ruleFiles.includes('ledgerflow.rules.yml'), `rule files: ${ruleFiles.join(', ')}`);
  assert.ok(ruleTestFiles.length > 0, 'no *.rules.test.yml next to the rules');
  for (const t of ruleTests) for (const f of t.rule_files) assert.ok(ruleFiles.includes(f), `${f} is not a *.rules.yml of grafana/prometheus/`);
});

test('promtool check rules accepts every rule file', async () => {
  const result = await checkRules(ruleFiles);
  assert.ok(result.ok, result.output);
  assert.match(result.output, new RegExp(`SUCCESS: ${rules.length} rules found`));
});

test('promtool test rules passes', async () => {
  const result = await testRules(ruleTestFiles);
  assert.ok(result.ok, result.output);
  assert.match(result.output, /SUCCESS/);
});

test('a broken rule is reported, not swallowed (the helper surfaces promtool failures)', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lf-rules-'));
  try {
    fs.writeFileSync(path.join(dir, 'bad.rules.yml'), 'groups:\n  - name: bad\n    rules:\n      - record: bad:rate\n        expr: rate(x[5m]\n');
    const result = await checkRules(['bad.rules.yml'], dir);
    assert.equal(result.ok, false);
    assert.match(result.output, /bad\.rules\.yml/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('every alert has a severity, a summary and a description, and a test where it fires', () => {
  const alerts = rules.filter((r) => r.alert);
  assert.ok(alerts.length >= 6, `only ${alerts.length} alerts`);
  const firing = new Set(
    ruleTests.flatMap((t) => t.tests.flatMap((c) => (c.alert_rule_test ?? []).filter((a) => a.exp_alerts.length > 0).map((a) => a.alertname))),
  );
  const quiet = new Set(
    ruleTests.flatMap((t) => t.tests.flatMap((c) => (c.alert_rule_test ?? []).filter((a) => a.exp_alerts.length === 0).map((a) => a.alertname))),
  );
  for (const a of alerts) {
    const name = a.alert as string;
    assert.match(a.labels?.severity ?? '', /^(warning|critical)$/, `${name}: severity`);
    assert.ok(a.annotations?.summary, `${name}: summary`);
    assert.ok(a.annotations?.description, `${name}: description`);
    assert.ok(firing.has(name), `${name} has no promtool test case in which it fires`);
    assert.ok(quiet.has(name), `${name} has no promtool test case in which it stays quiet`);
  }
});

test('every recording rule is named level:metric:operations and the names are unique', () => {
  const records = rules.flatMap((r) => (r.record ? [r.record] : []));
  assert.ok(records.length > 0);
  for (const name of records) assert.match(name, /^[a-z_]+:[a-z_]+:[a-z0-9_]+$/, name);
  assert.equal(new Set(records).size, records.length, 'duplicate recording rule names');
});
