/**
 * The Grafana dashboards and Prometheus rules work on real data: every SQL panel runs against a
 * database filled by a real pipeline run (as the read-only dashboard user), and every PromQL
 * expression (panels and rules) runs against the stack's Prometheus while it scrapes that run.
 * Grafana itself is not needed: its query expansion is reproduced below, macro for macro.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import mysql from 'mysql2/promise';
import YAML from 'yaml';
import { startApi, type ApiHandle } from '../../src/api';
import type { ConsumerHandle } from '../../src/consumer';
import { startProducer } from '../../src/producer';
import { loadConfig } from '../../src/config';
import { assertPortFree, READ_ONLY_USER, stackLayout } from '../../src/stack';
import { verify } from '../../src/verify';
import type { WorkerHandle } from '../../src/worker';
import { createTestPipeline, type TestPipeline } from '../helpers/pipeline';

const GRAFANA_DIR = path.resolve(__dirname, '..', '..', 'grafana');
const PROM_URL = `http://127.0.0.1:${loadConfig().stack.prometheusPort}`;
/** The stack's scrape interval and what Grafana derives from it for a 1 h range (see provisioning timeInterval). */
const SCRAPE_S = 5;
const PROM_INTERVAL_S = SCRAPE_S;
const PROM_RATE_INTERVAL_S = Math.max(PROM_INTERVAL_S + SCRAPE_S, 4 * SCRAPE_S);
/** The ports Prometheus scrapes (the config defaults): the processes under test must listen there. */
const SCRAPED = { 'consumer.httpPort': 9471, 'worker.httpPort': 9472, 'api.port': 8080, 'producer.httpPort': 9473, 'worker.sdkMetricsPort': 9474 } as const;
/** The ports of the Ledgerflow processes themselves (the SDK port serves Temporal's metrics only, no process metrics). */
const PROCESS_PORTS = Object.entries(SCRAPED).filter(([setting]) => setting !== 'worker.sdkMetricsPort').map(([, port]) => port);
const EVENTS = 3_000;
const RATE_PER_SEC = 110;

// ---------------------------------------------------------------------------------------------
// Dashboard model and Grafana's query expansion

interface DataSourceRef { type?: string; uid?: string }
interface Target { refId: string; datasource?: DataSourceRef; expr?: string; rawSql?: string; format?: string }
interface Panel { id: number; type: string; title: string; datasource?: DataSourceRef; targets?: Target[]; interval?: string; gridPos?: Record<string, number>; panels?: Panel[] }
interface Variable { name: string; type: string; query?: string | { query: string }; datasource?: DataSourceRef; multi?: boolean; includeAll?: boolean; current?: { value?: unknown } }
interface Dashboard { uid: string; title: string; schemaVersion: number; panels: Panel[]; templating: { list: Variable[] } }
interface Query { dashboard: string; panel: string; refId: string; kind: 'sql' | 'promql'; text: string; format?: string; interval?: string }

/** What a variable holds once resolved: Grafana formats one value and "All / several" differently. */
interface VarValue { values: string[]; multi: boolean }
interface TimeRange { fromS: number; toS: number }

const dashboards: Dashboard[] = fs
  .readdirSync(path.join(GRAFANA_DIR, 'dashboards'))
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => JSON.parse(fs.readFileSync(path.join(GRAFANA_DIR, 'dashboards', f), 'utf8')) as Dashboard);

const allPanels = (panels: Panel[]): Panel[] => panels.flatMap((p) => [p, ...allPanels(p.panels ?? [])]);
const varQuery = (v: Variable) => (typeof v.query === 'string' ? v.query : (v.query?.query ?? ''));

/** A data source reference's type; a `${var}` uid names a datasource variable, whose query is the type. */
function dsKind(d: Dashboard, ref: DataSourceRef | undefined, what: string): 'sql' | 'promql' {
  const type = ref?.type ?? d.templating.list.find((v) => v.type === 'datasource' && ref?.uid === `\${${v.name}}`)?.query;
  if (type === 'mysql') return 'sql';
  if (type === 'prometheus') return 'promql';
  throw new Error(`${d.title} / ${what}: unknown data source ${JSON.stringify(ref)}`);
}

function queriesOf(d: Dashboard): Query[] {
  return allPanels(d.panels).flatMap((p) =>
    (p.targets ?? []).map((t) => {
      const kind = dsKind(d, t.datasource ?? p.datasource, `${p.title} / ${t.refId}`);
      const text = kind === 'sql' ? t.rawSql : t.expr;
      assert.ok(text && text.trim(), `${d.title} / ${p.title} / ${t.refId}: empty ${kind === 'sql' ? 'rawSql' : 'expr'}`);
      return { dashboard: d.title, panel: p.title, refId: t.refId, kind, text, format: t.format, interval: p.interval };
    }),
  );
}

function durationS(text: string): number {
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(text.trim().replace(/^['"]|['"]$/g, ''));
  if (!m) throw new Error(`not a Grafana interval: ${text}`);
  return Number(m[1]) * { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400 }[m[2] as 'ms' | 's' | 'm' | 'h' | 'd'];
}

const regexEscape = (v: string) => v.replace(/\\/g, '\\\\\\\\').replace(/[$^*{}[\]'+?.()|]/g, '\\\\$&');
const sqlQuote = (v: string) => `'${v.replace(/'/g, "''")}'`;

/** Grafana's front-end step: built-in interval variables, then dashboard variables ($v, ${v}, [[v]]). */
function interpolate(text: string, kind: 'sql' | 'promql', vars: Map<string, VarValue>, builtins: Record<string, string>): string {
  let out = text;
  for (const [name, value] of Object.entries(builtins).sort(([a], [b]) => b.length - a.length)) {
    out = out.split(`\${${name}}`).join(value).split(`$${name}`).join(value);
  }
  return out.replace(/\$\{(\w+)\}|\[\[(\w+)\]\]|\$(\w+)(?!\w*\()/g, (whole, a?: string, b?: string, c?: string) => {
    const name = (a ?? b ?? c) as string;
    const v = vars.get(name);
    if (!v) throw new Error(`unresolved variable ${whole} in: ${text}`);
    if (kind === 'sql') return v.multi ? v.values.map(sqlQuote).join(',') : (v.values[0] ?? '').replace(/'/g, "''");
    const escaped = v.values.map(regexEscape);
    return v.multi ? (escaped.length === 1 ? (escaped[0] as string) : `(${escaped.join('|')})`) : (escaped[0] ?? '');
  });
}

/** Grafana's MySQL macro engine (pkg/tsdb/mysql/macros.go), including its refusal of user functions. */
function expandSqlMacros(sql: string, range: TimeRange): string {
  if (/([\s]*show[\s]+grants|[\s,]session_user\([^)]*\)|[\s,]current_user(\([^)]*\))?|[\s,]system_user\([^)]*\)|[\s,]user\([^)]*\))([\s,;]|$)/im.test(sql)) {
    throw new Error(`Grafana refuses this query (user functions / SHOW GRANTS): ${sql}`);
  }
  return sql.replace(/\$([_a-zA-Z0-9]+)\(([^)]*)\)/g, (_whole, name: string, argText: string) => {
    const args = argText.split(',').map((a) => a.trim());
    const group = () => {
      if (args.length < 2) throw new Error(`macro ${name} needs a column and an interval`);
      const s = durationS(args[1] as string);
      return `UNIX_TIMESTAMP(${args[0]}) DIV ${s} * ${s}`;
    };
    switch (name) {
      case '__time':
      case '__timeEpoch': return `UNIX_TIMESTAMP(${args[0]}) as time_sec`;
      case '__timeFilter': return `${args[0]} BETWEEN FROM_UNIXTIME(${range.fromS}) AND FROM_UNIXTIME(${range.toS})`;
      case '__timeFrom': return `FROM_UNIXTIME(${range.fromS})`;
      case '__timeTo': return `FROM_UNIXTIME(${range.toS})`;
      case '__timeGroup': return group();
      case '__timeGroupAlias': return `${group()} AS "time"`;
      case '__unixEpochFilter': return `${args[0]} >= ${range.fromS} AND ${args[0]} <= ${range.toS}`;
      case '__unixEpochFrom': return String(range.fromS);
      case '__unixEpochTo': return String(range.toS);
      default: throw new Error(`unknown macro $${name} in: ${sql}`);
    }
  });
}

function builtinsFor(q: Pick<Query, 'kind' | 'interval'>, range: TimeRange): Record<string, string> {
  const intervalS = q.kind === 'sql' ? durationS(q.interval ?? '1m') : Math.max(PROM_INTERVAL_S, q.interval ? durationS(q.interval) : 0);
  const rangeS = range.toS - range.fromS;
  return {
    __interval: `${intervalS}s`,
    __interval_ms: String(intervalS * 1000),
    __rate_interval: `${q.kind === 'sql' ? intervalS : PROM_RATE_INTERVAL_S}s`,
    __range: `${rangeS}s`,
    __range_s: String(rangeS),
    __range_ms: String(rangeS * 1000),
  };
}

function expand(q: Query, vars: Map<string, VarValue>, range: TimeRange): string {
  const text = interpolate(q.text, q.kind, vars, builtinsFor(q, range));
  return q.kind === 'sql' ? expandSqlMacros(text, range) : text;
}

// ---------------------------------------------------------------------------------------------
// Checks that need no running stack

test('dashboards are Grafana dashboard JSON with unique panel ids and a query in every target', () => {
  assert.deepEqual(dashboards.map((d) => d.uid).sort(), ['ledgerflow-business', 'ledgerflow-ops']);
  for (const d of dashboards) {
    assert.ok(d.schemaVersion >= 36 && d.schemaVersion <= 41, `${d.title}: schemaVersion ${d.schemaVersion}`);
    const panels = allPanels(d.panels);
    assert.equal(new Set(panels.map((p) => p.id)).size, panels.length, `${d.title}: duplicate panel ids`);
    for (const p of panels) {
      assert.ok(p.gridPos && (p.gridPos.x ?? 0) + (p.gridPos.w ?? 0) <= 24, `${d.title} / ${p.title}: gridPos`);
      if (p.type !== 'row') assert.ok((p.targets ?? []).length > 0, `${d.title} / ${p.title}: no targets`);
    }
    const queries = queriesOf(d);
    for (const q of queries.filter((x) => x.kind === 'sql')) {
      assert.match(q.format ?? '', /^(time_series|table)$/, `${q.panel}: format`);
      // Money is integer minor units: a selected amount is shown as minor / 100, a display-only division.
      // An alias that itself ends in _minor keeps minor units on purpose (a subquery's sum).
      for (const line of q.text.split('\n').filter((l) => /(amount|balance)_minor\b.*\bAS\b/.test(l) && !/\bAS \w+_minor\b/.test(l))) {
        assert.match(line, /\/ 100 AS /, `${q.dashboard} / ${q.panel}: show money as minor units / 100: ${line.trim()}`);
      }
    }
  }
  const ops = dashboards.find((d) => d.uid === 'ledgerflow-ops') as Dashboard;
  const instanceVar = ops.templating.list.find((v) => v.name === 'instance');
  assert.ok(instanceVar, 'ops dashboard has an instance (pod) variable');
  assert.ok(queriesOf(ops).filter((q) => q.text.includes('instance=~"$instance"')).length >= 4, 'per-pod panels use $instance');
});

test('provisioning: data sources match the dashboards, the SQL one is read-only with no literal password', () => {
  const ds = YAML.parse(fs.readFileSync(path.join(GRAFANA_DIR, 'provisioning', 'datasources', 'ledgerflow.yaml'), 'utf8')) as {
    datasources: Array<{ uid: string; type: string; user?: string; jsonData?: Record<string, unknown>; secureJsonData?: Record<string, string> }>;
  };
  const byType = new Map(ds.datasources.map((d) => [d.type, d]));
  const sql = byType.get('mysql');
  assert.ok(sql && byType.get('prometheus'));
  assert.equal(sql.user, READ_ONLY_USER);
  assert.equal(sql.jsonData?.timezone, '+00:00', 'rows are UTC; so must the session be');
  assert.match(sql.secureJsonData?.password ?? '', /^\$__(env|file)\{[^}]+\}$/, 'password only by reference');
  assert.equal(byType.get('prometheus')?.jsonData?.timeInterval, `${SCRAPE_S}s`);
  for (const d of dashboards) {
    for (const v of d.templating.list.filter((x) => x.type === 'datasource')) {
      assert.equal(v.current?.value, byType.get(varQuery(v))?.uid, `${d.title}: default of $${v.name} is the provisioned uid`);
    }
  }
  const provider = YAML.parse(fs.readFileSync(path.join(GRAFANA_DIR, 'provisioning', 'dashboards', 'ledgerflow.yaml'), 'utf8'));
  assert.equal(provider.providers[0].type, 'file');
});

test('the macro expander produces what Grafana sends to MySQL', () => {
  const range = { fromS: 1_700_000_000, toS: 1_700_003_600 };
  assert.equal(expandSqlMacros('WHERE $__timeFilter(minute)', range), 'WHERE minute BETWEEN FROM_UNIXTIME(1700000000) AND FROM_UNIXTIME(1700003600)');
  assert.equal(expandSqlMacros("SELECT $__timeGroupAlias(minute, '5m')", range), 'SELECT UNIX_TIMESTAMP(minute) DIV 300 * 300 AS "time"');
  assert.equal(expandSqlMacros('$__timeFrom() $__timeTo() $__unixEpochFilter(t)', range), 'FROM_UNIXTIME(1700000000) FROM_UNIXTIME(1700003600) t >= 1700000000 AND t <= 1700003600');
  const vars = new Map([['currency', { values: ["EU'R"], multi: false }], ['topic', { values: ['a.b', 'c'], multi: true }]]);
  const q = (text: string, kind: 'sql' | 'promql'): Query => ({ dashboard: '', panel: '', refId: 'A', kind, text, interval: '1m' });
  assert.equal(expand(q("c = '$currency' AND $__timeGroup(m, $__interval)", 'sql'), vars, range), "c = 'EU''R' AND UNIX_TIMESTAMP(m) DIV 60 * 60");
  assert.equal(expand(q('x{topic=~"$topic"}[$__rate_interval]', 'promql'), vars, range), `x{topic=~"(a\\\\.b|c)"}[${PROM_RATE_INTERVAL_S}s]`);
  assert.throws(() => expandSqlMacros('SELECT current_user()', range), /refuses/);
});

// ---------------------------------------------------------------------------------------------
// Live: a real pipeline on the stack, scraped by the stack's Prometheus

interface PromResult { metric: Record<string, string>; value: [number, string] }

async function promQuery(expr: string): Promise<PromResult[]> {
  const res = await fetch(`${PROM_URL}/api/v1/query`, { method: 'POST', body: new URLSearchParams({ query: expr }), signal: AbortSignal.timeout(15_000) });
  const body = (await res.json()) as { status: string; error?: string; data?: { resultType: string; result: PromResult[] | [number, string] } };
  if (body.status !== 'success') throw new Error(`${body.error ?? res.status} in: ${expr}`);
  const data = body.data as { resultType: string; result: PromResult[] | [number, string] };
  return data.resultType === 'vector' ? (data.result as PromResult[]) : [{ metric: {}, value: data.result as [number, string] }];
}

async function promGet<T>(pathAndQuery: string): Promise<T> {
  const res = await fetch(`${PROM_URL}${pathAndQuery}`, { signal: AbortSignal.timeout(15_000) });
  const body = (await res.json()) as { status: string; error?: string; data: T };
  if (body.status !== 'success') throw new Error(`${pathAndQuery}: ${body.error ?? res.status}`);
  return body.data;
}

const hasData = (r: PromResult[]) => r.some((s) => Number.isFinite(Number(s.value[1])));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs each expression; retries the empty ones (samples arrive every scrape) until the deadline. */
async function promCheck(items: Array<{ name: string; expr: string; mayBeEmpty: boolean }>, deadline: number): Promise<string[]> {
  const problems: string[] = [];
  let pending = items;
  for (;;) {
    const empty: typeof items = [];
    for (const item of pending) {
      try {
        const r = await promQuery(item.expr);
        if (!item.mayBeEmpty && !hasData(r)) empty.push(item);
      } catch (err) {
        problems.push(`${item.name}: ${(err as Error).message}`);
      }
    }
    if (empty.length === 0 || Date.now() > deadline) {
      problems.push(...empty.map((i) => `${i.name}: no data: ${i.expr}`));
      return problems;
    }
    pending = empty;
    await sleep(SCRAPE_S * 1000);
  }
}

/**
 * Expressions that are legitimately empty on a healthy run: Temporal failure counters (they only
 * exist after a failure), the alerts table and the stuck-partitions table. Everything else must return data.
 */
const MAY_BE_EMPTY: ReadonlyArray<[string, string]> = [
  ['processBatch workflows/s (Temporal server)', 'B'],
  ['processBatch workflows/s (Temporal server)', 'C'],
  ['applyBatch failed attempts/s (Temporal server)', 'A'],
  ['applyBatch failed attempts/s (Temporal server)', 'B'],
  ['Ledgerflow alerts (pending or firing)', 'A'],
  ['Stuck partitions: undecodable record batch', 'A'],
];
const mayBeEmpty = (q: Query) => MAY_BE_EMPTY.some(([panel, ref]) => panel === q.panel && ref === q.refId);

interface RuleGroupFile { groups: Array<{ name: string; rules: Array<{ record?: string; alert?: string; expr: string }> }> }
const ruleFiles: RuleGroupFile[] = fs
  .readdirSync(path.join(GRAFANA_DIR, 'prometheus'))
  .filter((f) => f.endsWith('.rules.yml'))
  .map((f) => YAML.parse(fs.readFileSync(path.join(GRAFANA_DIR, 'prometheus', f), 'utf8')) as RuleGroupFile);
const rules = ruleFiles.flatMap((f) => f.groups.flatMap((g) => g.rules));

async function waitForFreePorts(deadlineMs: number): Promise<void> {
  for (const [setting, port] of Object.entries(SCRAPED)) {
    for (;;) {
      try {
        await assertPortFree(port, 'dashboards test', { setting });
        break;
      } catch (err) {
        if (Date.now() > deadlineMs) {
          throw new Error(`${(err as Error).message}. Prometheus scrapes only the default ports, so this test needs them: stop the demo or other ledgerflow processes and run it again.`);
        }
        await sleep(1000);
      }
    }
  }
}

describe('dashboards and rules on live data', { timeout: 240_000 }, () => {
  let env: TestPipeline;
  let worker: WorkerHandle | undefined;
  let consumer: ConsumerHandle | undefined;
  let api: ApiHandle | undefined;
  let producer: Awaited<ReturnType<typeof startProducer>> | undefined;
  let db: mysql.Connection | undefined;
  const startedAtS = Math.floor(Date.now() / 1000);
  const vars = new Map<string, VarValue>();

  before(async () => {
    await waitForFreePorts(Date.now() + 30_000);
    env = await createTestPipeline('dashboards', { ...SCRAPED });
    worker = await env.startWorker();
    consumer = await env.startConsumer();
    api = await startApi(env.config, env.log);
    producer = await startProducer(env.config, { ratePerSec: RATE_PER_SEC, count: EVENTS, accounts: 100, seed: 6, malformedRatio: 0.01, serveMetrics: true }, env.log);
    // Two business rejections through HTTP ingest, so the rejection panels have rows whatever the generator draws.
    const now = new Date().toISOString();
    const res = await fetch(`http://127.0.0.1:${api.port}/transactions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': `dash-${env.runId}` },
      body: JSON.stringify([
        { account: 'dash-over-limit', type: 'credit', amountMinor: '900000000000', currency: 'EUR', occurredAt: now },
        { account: 'dash-yen', type: 'credit', amountMinor: '1000', currency: 'JPY', occurredAt: now },
      ]),
    });
    assert.equal(res.status, 202, await res.text());
  });

  after(async () => {
    await producer?.stop();
    await db?.end().catch(() => undefined);
    await api?.stop();
    await consumer?.stop();
    await worker?.stop();
    await env?.dispose();
  });

  test('Prometheus scrapes the pipeline processes and has loaded the rule files', async () => {
    const deadline = Date.now() + 30_000;
    const wanted = Object.values(SCRAPED).map((port) => `127.0.0.1:${port}`);
    for (;;) {
      const targets = await promGet<{ activeTargets: Array<{ labels: { instance: string }; health: string; lastScrape: string }> }>('/api/v1/targets?state=active');
      const up = wanted.filter((inst) => targets.activeTargets.some((t) => t.labels.instance === inst && t.health === 'up' && Date.parse(t.lastScrape) / 1000 > startedAtS));
      // Every target, Temporal's server too: the stack's "all targets up" promise.
      const down = targets.activeTargets.filter((t) => t.health !== 'up').map((t) => `${t.labels.instance} (${t.health})`);
      if (up.length === wanted.length && down.length === 0) break;
      assert.ok(
        Date.now() < deadline,
        `targets not up after 30 s: ${[...wanted.filter((w) => !up.includes(w)), ...down].join(', ')} (is prometheus.yml scraping the default ports? run \`npx tsx src/cli.ts stack up\`)`,
      );
      await sleep(1000);
    }
    const loaded = await promGet<{ groups: Array<{ rules: Array<{ name: string; health: string; lastError?: string }> }> }>('/api/v1/rules');
    const byName = new Map(loaded.groups.flatMap((g) => g.rules).map((r) => [r.name, r]));
    for (const r of rules) {
      const name = (r.record ?? r.alert) as string;
      assert.ok(byName.has(name), `Prometheus has not loaded rule ${name}`);
      assert.notEqual(byName.get(name)?.health, 'err', `${name}: ${byName.get(name)?.lastError}`);
    }
  });

  test('every PromQL panel query runs and returns data (failure-only panels may be empty)', async () => {
    const nowS = Math.floor(Date.now() / 1000);
    const range = { fromS: nowS - 3600, toS: nowS };
    const problems: string[] = [];
    const items: Array<{ name: string; expr: string; mayBeEmpty: boolean }> = [];
    for (const d of dashboards) {
      for (const v of d.templating.list.filter((x) => x.type === 'query' && dsKind(d, x.datasource, `$${x.name}`) === 'promql')) {
        const m = /^label_values\((?:(.*),\s*)?(\w+)\)$/.exec(varQuery(v).trim());
        assert.ok(m, `${d.title}: $${v.name}: only label_values(...) variables are supported here`);
        const params = new URLSearchParams({ start: String(range.fromS), end: String(range.toS) });
        if (m[1]) params.set('match[]', m[1]);
        // The consumer's counters appear with its first batch: poll until this run shows up.
        const mine = v.name === 'topic' ? [env.config.kafka.topic] : v.name === 'instance' ? PROCESS_PORTS.map((p) => `127.0.0.1:${p}`) : [];
        const deadline = Date.now() + 30_000;
        let values = await promGet<string[]>(`/api/v1/label/${m[2]}/values?${params}`);
        while (mine.some((x) => !values.includes(x)) && Date.now() < deadline) {
          await sleep(1000);
          values = await promGet<string[]>(`/api/v1/label/${m[2]}/values?${params}`);
        }
        assert.ok(values.length > 0, `${d.title}: $${v.name} has no values`);
        for (const x of mine) assert.ok(values.includes(x), `${d.title}: $${v.name} lacks ${x}: ${values.join(', ')}`);
        // Like a user picking this run's topic; every other variable stays at All.
        vars.set(v.name, v.name === 'topic' ? { values: [env.config.kafka.topic], multi: true } : { values, multi: true });
      }
      for (const q of queriesOf(d).filter((x) => x.kind === 'promql')) {
        items.push({ name: `${q.dashboard} / ${q.panel} / ${q.refId}`, expr: expand(q, vars, range), mayBeEmpty: mayBeEmpty(q) });
      }
    }
    problems.push(...(await promCheck(items, Date.now() + 25_000)));
    assert.deepEqual(problems, []);
  });

  test('every rule expression runs; recording rules have data, also under their recorded names', async () => {
    const items = rules.flatMap((r) =>
      r.record
        ? [
            { name: `record ${r.record}`, expr: r.expr, mayBeEmpty: false },
            { name: `recorded ${r.record}`, expr: r.record, mayBeEmpty: false },
          ]
        : [{ name: `alert ${r.alert}`, expr: r.expr, mayBeEmpty: true }],
    );
    assert.deepEqual(await promCheck(items, Date.now() + 25_000), []);
  });

  test('the pipeline stores everything produced (real data for the SQL panels)', async () => {
    assert.ok(producer);
    const report = await producer.done;
    assert.equal(report.sent, EVENTS);
    assert.ok(report.malformed > 0, 'some malformed events for the DLQ panels');
    const v = await verify(env.config, { waitMs: 60_000 }, env.log);
    assert.ok(v.ok, JSON.stringify(v));
    assert.ok(v.rejected >= 2, `rejections stored: ${v.rejected}`);
  });

  test('every SQL panel query runs as the read-only user, returns data and reads transactions by index', async () => {
    const password = fs.readFileSync(path.join(stackLayout(env.config).secrets, 'db-ro.password'), 'utf8').trim();
    const conn = await mysql.createConnection({
      host: env.config.db.host, port: env.config.db.port, user: READ_ONLY_USER, password, database: env.config.db.name,
      supportBigNumbers: true, bigNumberStrings: true, dateStrings: true,
    });
    db = conn;
    // Grafana's data source sets the session time zone (jsonData.timezone); rows are UTC.
    await conn.query("SET time_zone = '+00:00'");
    await assert.rejects(db.query("INSERT INTO balances (account, currency) VALUES ('x', 'EUR')"), /denied/i, 'the dashboard user must not write');
    const nowS = Math.floor(Date.now() / 1000) + 1;
    const range = { fromS: nowS - 3600, toS: nowS };
    const problems: string[] = [];
    for (const d of dashboards) {
      for (const v of d.templating.list.filter((x) => x.type === 'query' && dsKind(d, x.datasource, `$${x.name}`) === 'sql')) {
        const sql = expand({ dashboard: d.title, panel: `$${v.name}`, refId: '', kind: 'sql', text: varQuery(v) }, vars, range);
        const [rows] = await conn.query<mysql.RowDataPacket[]>({ sql, rowsAsArray: true });
        const values = rows.map((r) => String(r[0]));
        assert.ok(values.includes('EUR'), `${d.title}: $${v.name} = ${values.join(', ')}`);
        vars.set(v.name, { values: [values[0] as string], multi: Boolean(v.multi || v.includeAll) });
      }
      for (const q of queriesOf(d).filter((x) => x.kind === 'sql')) {
        const name = `${q.dashboard} / ${q.panel} / ${q.refId}`;
        let sql = '';
        try {
          sql = expand(q, vars, range);
          const [rows, fields] = await conn.query<mysql.RowDataPacket[]>(sql);
          if (rows.length === 0) problems.push(`${name}: no rows: ${sql}`);
          if (q.format === 'time_series') {
            assert.ok(fields.some((f) => f.name === 'time'), `${name}: a time series needs a "time" column`);
            const times = rows.map((r) => Number(r.time));
            assert.deepEqual(times, [...times].sort((a, b) => a - b), `${name}: rows must be ordered by time`);
          }
          // transactions grows without bound: a panel reads it only through an indexable time filter
          // and a LIMIT. (On this small table the optimizer may still prefer a scan; possible_keys
          // shows the filter is one an index serves.)
          const [plan] = await conn.query<mysql.RowDataPacket[]>(`EXPLAIN ${sql}`);
          for (const step of plan.filter((s) => s.table === 'transactions' && !/optimized away/i.test(String(s.Extra)))) {
            if (!step.possible_keys) problems.push(`${name}: no index can serve this read of transactions: ${JSON.stringify(step)}`);
            if (!/\$__timeFilter\(occurred_at\)/.test(q.text) || !/\bLIMIT\s+\d+/i.test(q.text)) problems.push(`${name}: reads transactions without $__timeFilter(occurred_at) and a LIMIT`);
          }
        } catch (err) {
          problems.push(`${name}: ${(err as Error).message}${sql ? `: ${sql}` : ''}`);
        }
      }
    }
    assert.deepEqual(problems, []);
  });
});
