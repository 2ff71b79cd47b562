import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { startApi, type ApiHandle } from '../../src/api';
import { bearer, createTestKeys, type TestKeys } from '../helpers/apiKeys';
import { REPO_ROOT } from '../helpers/k8s-tools';
import { createTestPipeline, type TestPipeline } from '../helpers/pipeline';
import { ensureSchemathesis, SCHEMATHESIS_VERSION } from '../helpers/schemathesis';

/**
 * The API answers as its contract says: schemathesis (all checks: status codes, content types,
 * headers, response schemas, valid data accepted and invalid refused, undeclared methods 405,
 * required headers, ignored auth…) against the running api with a credential of every scope but
 * operator, on the contract the api serves at /openapi.json. Zero failures.
 *
 * A fixed seed keeps CI reproducible; LF_CONTRACT_SEED=<n> explores others. The report
 * docs/reports/contract.json is written only when asked: LF_CONTRACT_REPORT=docs/reports/contract.json.
 */
const SEED = Number(process.env.LF_CONTRACT_SEED ?? 20261203);
const REPORT = process.env.LF_CONTRACT_REPORT;
const MAX_EXAMPLES = 20;
const CASES_MIN = 500;

/**
 * 422 is a documented answer of a schema-valid POST /transactions: the fuzzer draws the same few
 * Idempotency-Keys with other bodies (a key is bound to its first body). Everything else keeps
 * schemathesis's defaults. The live feed is endless: its first two events are checked. No
 * --max-time: with one, schemathesis keeps fuzzing until the budget is spent; --max-examples
 * and the stateful phase's steps bound the run instead.
 */
const CONFIG = `max-stream-events = 2
[phases.stateful]
max-steps = 10
[[operations]]
include-name = "POST /transactions"
checks.positive_data_acceptance.expected-statuses = ["2xx", "3xx", "401", "403", "404", "409", "422", "429", "5xx"]
`;

let env: TestPipeline;
let keys: TestKeys;
let api: ApiHandle;
let dir: string;

before(async () => {
  ensureSchemathesis(); // first: a first-time pip install must not run while the pipeline waits
  keys = createTestKeys([{ id: 'contract', scopes: ['ingest', 'read', 'review', 'metrics'], rateLimitPerMinute: 1_000_000 }]);
  env = await createTestPipeline('contract', { 'api.keysFile': keys.file });
  api = await startApi(env.config, env.log);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lf-contract-'));
});

after(async () => {
  await api?.stop();
  await env?.dispose();
  keys?.remove();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

function run(bin: string, args: string[], envVars: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { cwd: dir, env: envVars, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, output }));
  });
}

interface RunReport {
  schemathesis_version: string;
  seed: number;
  running_time: number;
  complete: boolean;
  exit_code: number;
  operations: { total: number; selected: number; tested: number; errored: number };
  test_cases: { generated: number; with_failures: number; unique_failures: number; errored: number };
  failures: unknown[];
  errors: unknown[];
  phases: Record<string, { status: string }>;
}

test(`schemathesis ${SCHEMATHESIS_VERSION}, all checks, ≥ ${CASES_MIN} cases against the running api: 0 failures`, { timeout: 600_000 }, async (t) => {
  const st = ensureSchemathesis();
  const base = `http://127.0.0.1:${api.port}`;
  const token = keys.tokens.contract as string;
  // The contract as the api serves it (it needs a credential too), saved for schemathesis to load.
  const spec = await fetch(`${base}/openapi.json`, { headers: bearer(token) });
  assert.equal(spec.status, 200);
  fs.writeFileSync(path.join(dir, 'openapi.json'), await spec.text());
  fs.writeFileSync(path.join(dir, 'schemathesis.toml'), CONFIG);
  const args = [
    '--config-file', path.join(dir, 'schemathesis.toml'),
    'run', path.join(dir, 'openapi.json'),
    '--url', base,
    '--header', `Authorization: Bearer ${token}`,
    '--checks', 'all',
    '--max-examples', String(MAX_EXAMPLES),
    '--seed', String(SEED),
    '--report', 'json',
    '--report-json-path', path.join(dir, 'report.json'),
    '--no-color',
  ];
  const started = Date.now();
  const { code, output } = await run(st, args, { ...process.env, SCHEMATHESIS_TELEMETRY: 'false', NO_COLOR: '1' });
  const report = JSON.parse(fs.readFileSync(path.join(dir, 'report.json'), 'utf8')) as RunReport;
  t.diagnostic(`seed ${SEED}: ${report.test_cases.generated} cases, ${report.test_cases.unique_failures} failures in ${Math.round((Date.now() - started) / 1000)} s`);
  const failed = report.test_cases.unique_failures > 0 || report.errors.length > 0 || code !== 0;
  assert.ok(!failed, `schemathesis (seed ${SEED}, reproduce with LF_CONTRACT_SEED=${SEED}):\n${output.slice(-12_000)}`);
  assert.equal(report.operations.tested, report.operations.selected, 'every operation tested');
  assert.ok(report.operations.tested >= 15, `operations tested: ${report.operations.tested}`);
  assert.ok(report.test_cases.generated >= CASES_MIN, `cases: ${report.test_cases.generated}`);

  if (REPORT) {
    const checks = /possible values:([^\]]+)\]/.exec(execFileSync(st, ['run', '--help'], { encoding: 'utf8' }).replace(/\s+/g, ' '))?.[1]?.split(',').map((c) => c.trim()).filter((c) => c && c !== 'all');
    const commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src', 'sql'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim() !== '';
    const out = {
      what: 'schemathesis against the running api (test/integration/contract.test.ts), contract from GET /openapi.json',
      when: new Date().toISOString(),
      commit,
      ...(dirty ? { uncommittedChangesUnderSrc: true } : {}),
      machine: { cpuModel: os.cpus()[0]?.model ?? 'unknown', cores: os.cpus().length, memoryBytes: os.totalmem(), loadAverage1m: os.loadavg()[0], node: process.version },
      schemathesisVersion: report.schemathesis_version,
      command: `st ${args.map((a) => (a.startsWith('Authorization') ? 'Authorization: Bearer [credential]' : a.startsWith(dir) ? path.basename(a) : a)).join(' ')}`,
      seed: report.seed,
      checks,
      phases: Object.fromEntries(Object.entries(report.phases).map(([name, p]) => [name, p.status])),
      operations: report.operations,
      cases: report.test_cases.generated,
      casesWithFailures: report.test_cases.with_failures,
      failures: report.test_cases.unique_failures,
      errors: report.errors.length,
      runningTimeS: Math.round(report.running_time),
    };
    fs.writeFileSync(path.resolve(REPO_ROOT, REPORT), `${JSON.stringify(out, null, 2)}\n`);
    t.diagnostic(`report written to ${REPORT}`);
  }
});
