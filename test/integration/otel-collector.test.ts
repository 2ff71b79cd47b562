/**
 * Ledgerflow's telemetry reaches a real OpenTelemetry Collector the OpenTelemetry way, and nothing
 * is lost or renamed on the way. Real producer, api, consumer and worker processes export traces
 * and metrics over OTLP (http/protobuf, http/json and grpc, one per process) to the stack's
 * collector, which forwards traces to Jaeger and serves metrics in the Prometheus format:
 *   - one produced event (and one posted to the HTTP ingest) is one connected trace in Jaeger's
 *     query API, across producer, consumer, workflow, activity and SQL;
 *   - the collector carries the committed events count, consumer lag, produce→commit histogram
 *     and the other series under the names and with the values each process's /metrics shows;
 *     the Temporal SDK's series the dashboards read arrive under their Prometheus names.
 * With LF_OTEL_REPORT=<file> it writes the compared values to that file (docs/reports/otel.json).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { after, before, test } from 'node:test';
import { loadConfig } from '../../src/config';
import { JAEGER_VERSION, localApiToken, localTelemetry, OTELCOL_VERSION, stackDown, stackMarkers, stackStatus, stackUp } from '../../src/stack';
import { parseExposition, samplesOf, seriesKey, type Sample } from '../helpers/exposition';
import { findTraces, getTrace, type TraceSpan } from '../helpers/jaeger';
import { createTestPipeline, type TestPipeline } from '../helpers/pipeline';
import { exited, freePort, spawnLedgerflow, waitForStatus } from '../helpers/processes';

const EXPORT_INTERVAL_MS = 1_000;
const PRODUCED = 300;
/** A cold first build of the collector and Jaeger takes minutes (CI builds them in `stack up` first). */
const FIRST_UP_TIMEOUT_MS = 45 * 60_000;
/** Labels only the collector path adds (from the resource and the instrumentation scope). */
const PATH_LABELS = new Set(['job', 'instance', 'otel_scope_name', 'otel_scope_version', 'otel_scope_schema_url']);

const baseConfig = loadConfig();
let env: TestPipeline;
let urls: { otlpHttp: string; otlpGrpc: string; prometheus: string; metricsFile: string; jaeger: string };
let childEnv: (more: Record<string, unknown>, otel?: Record<string, string>) => NodeJS.ProcessEnv;
const children: Array<ReturnType<typeof spawnLedgerflow>> = [];
const ports = { consumer: 0, worker: 0, api: 0 };
const instanceOf = (role: string) => `${env.runId}-${role}`;
const report: Record<string, unknown> = {};

before(async () => {
  await stackUp(baseConfig, { services: ['otelcol', 'jaeger'], log: (line) => console.error(line) });
  const local = localTelemetry(baseConfig);
  assert.ok(local.collectorOtlp && local.collectorPrometheus && local.collectorMetricsFile && local.jaegerUi, 'collector and Jaeger run');
  const grpcPort = baseConfig.stack.otelcolPort - 1;
  urls = {
    otlpHttp: local.collectorOtlp,
    otlpGrpc: `http://127.0.0.1:${grpcPort}`,
    prometheus: local.collectorPrometheus,
    metricsFile: local.collectorMetricsFile,
    jaeger: local.jaegerUi.replace(/\/$/, ''),
  };
  env = await createTestPipeline('otel');
  childEnv = (more, otel = {}) => ({
    ...env.childEnv({ 'tracing.enabled': true, 'producer.httpPort': 0, ...more }),
    OTEL_METRICS_EXPORTER: 'otlp',
    OTEL_EXPORTER_OTLP_ENDPOINT: urls.otlpHttp,
    OTEL_METRIC_EXPORT_INTERVAL: String(EXPORT_INTERVAL_MS),
    OTEL_BSP_SCHEDULE_DELAY: '200',
    ...otel,
  });
  [ports.consumer, ports.worker, ports.api] = [await freePort(), await freePort(), await freePort()];
  const attrs = (role: string) => ({ OTEL_RESOURCE_ATTRIBUTES: `service.instance.id=${instanceOf(role)},deployment.environment.name=test` });
  children.push(
    spawnLedgerflow('work', childEnv({ 'worker.httpPort': ports.worker }, attrs('worker'))),
    spawnLedgerflow('consume', childEnv({ 'consumer.httpPort': ports.consumer }, attrs('consumer'))),
    // The api exports over OTLP/gRPC: the collector's other receiver.
    spawnLedgerflow('api', childEnv({ 'api.port': ports.api }, { ...attrs('api'), OTEL_EXPORTER_OTLP_ENDPOINT: urls.otlpGrpc, OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })),
  );
  for (const port of Object.values(ports)) await waitForStatus(`http://127.0.0.1:${port}/readyz`, 200, 90_000);
}, { timeout: FIRST_UP_TIMEOUT_MS });

after(async () => {
  // The worker last: a consumer draining a batch needs it to finish the workflow.
  const [worker, ...others] = children;
  for (const group of [others, worker ? [worker] : []]) {
    for (const c of group) if (c.exitCode === null) c.kill('SIGTERM');
    await Promise.all(group.map((c) => exited(c)));
  }
  await env?.dispose();
});

test('a second stack up of the collector and Jaeger builds, rewrites and starts nothing', { timeout: 120_000 }, async () => {
  const services = ['otelcol', 'jaeger'] as const;
  const markers = Object.values(stackMarkers(baseConfig, services)).flat();
  assert.equal(markers.length, 2);
  const mtimes = () => markers.map((f) => fs.statSync(f).mtimeMs);
  const before = mtimes();
  const pids = (await stackStatus(baseConfig)).filter((s) => s.optional).map((s) => s.pid);
  const lines: string[] = [];
  await stackUp(baseConfig, { services: [...services], log: (line) => lines.push(line) });
  assert.deepEqual(mtimes(), before);
  assert.deepEqual(lines.filter((l) => /building|started \(pid/.test(l)), []);
  assert.equal(lines.filter((l) => /already running/.test(l)).length, 2);
  const after = (await stackStatus(baseConfig)).filter((s) => s.optional);
  assert.deepEqual(after.map((s) => s.pid), pids);
  assert.ok(after.every((s) => s.running && s.answering));
  // Stopped and started again: the cached build is used as it is.
  await stackDown(baseConfig, { services: ['otelcol'], log: () => undefined });
  lines.length = 0;
  await stackUp(baseConfig, { services: ['otelcol'], log: (line) => lines.push(line) });
  assert.deepEqual(lines.filter((l) => /building/.test(l)), []);
  assert.equal(lines.filter((l) => /otelcol: started \(pid/.test(l)).length, 1);
  assert.deepEqual(mtimes(), before);
});

// ---------------------------------------------------------------------------------------------
// Traces, read back from Jaeger

/** The stages every produced event must cross after its send, each matched by a span of its trace. */
const STAGES: Array<[string, (s: TraceSpan, topic: string) => boolean]> = [
  ['consumer batch', (s, topic) => s.name === `process ${topic}` && s.service === 'ledgerflow-consumer'],
  ['workflow start', (s) => s.name === 'StartWorkflow:processBatch' && s.service === 'ledgerflow-consumer'],
  ['workflow run', (s) => s.name === 'RunWorkflow:processBatch' && s.service === 'ledgerflow-worker'],
  ['activity start', (s) => s.name === 'StartActivity:applyBatch' && s.service === 'ledgerflow-worker'],
  ['activity run', (s) => s.name === 'RunActivity:applyBatch' && s.service === 'ledgerflow-worker'],
  ['SQL statement', (s) => (s.tags['db.system'] ?? s.tags['db.system.name']) === 'mysql' && s.service === 'ledgerflow-worker'],
];

/** Stages missing from the trace, or why it is not one tree under `root`. */
function traceProblems(trace: TraceSpan[], root: (s: TraceSpan) => boolean, topic: string): string[] {
  const ids = new Set(trace.map((s) => s.spanId));
  const problems = STAGES.filter(([, match]) => !trace.some((s) => match(s, topic))).map(([stage]) => `no ${stage} span`);
  const roots = trace.filter((s) => !s.parentSpanId);
  if (roots.length !== 1 || !root(roots[0] as TraceSpan)) problems.push(`roots: ${roots.map((s) => `${s.service}:${s.name}`).join(', ') || 'none'}`);
  for (const s of trace) if (s.parentSpanId && !ids.has(s.parentSpanId)) problems.push(`${s.name} (${s.service}): parent ${s.parentSpanId} not in the trace`);
  return problems;
}

/** Polls Jaeger until the traces of `service` whose root matches are complete (spans arrive in batches). */
async function waitForTraces(service: string, root: (s: TraceSpan) => boolean, topic: string): Promise<{ traces: TraceSpan[][]; problems: string[] }> {
  let traces: TraceSpan[][] = [];
  let problems = ['no trace in Jaeger'];
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    // This run's traces only: Jaeger keeps earlier runs' (same services, other topics).
    const ids = (await findTraces(urls.jaeger, service))
      .filter((t) => t.some(root) && t.some((s) => s.name === `send ${topic}`))
      .map((t) => (t[0] as TraceSpan).traceId);
    traces = await Promise.all([...new Set(ids)].map((id) => getTrace(urls.jaeger, id)));
    problems = traces.length === 0 ? ['no trace in Jaeger'] : traces.flatMap((t) => traceProblems(t, root, topic));
    if (problems.length === 0) break;
    await new Promise((r) => setTimeout(r, 1_000));
  }
  return { traces, problems };
}

const traceSummary = (trace: TraceSpan[]) => ({
  traceId: trace[0]?.traceId,
  spans: trace.length,
  services: [...new Set(trace.map((s) => s.service))].sort(),
  stages: STAGES.map(([stage]) => stage),
});

test('a produced event is one connected trace in Jaeger: send → batch → workflow → activity → SQL', { timeout: 300_000 }, async () => {
  const topic = env.config.kafka.topic;
  // OTLP/JSON for these traces: the collector's third encoding.
  const producer = spawnLedgerflow('produce', childEnv({}, { OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json' }), ['--count', '6', '--rate', '0', '--accounts', '3', '--seed', '7']);
  children.push(producer);
  assert.equal((await exited(producer)).code, 0, producer.output.join(''));
  const isSend = (s: TraceSpan) => s.name === `send ${topic}` && s.service === 'ledgerflow-producer';
  const { traces, problems } = await waitForTraces('ledgerflow-producer', isSend, topic);
  assert.deepEqual(problems, []);
  // Six events of one send: one trace, whatever partitions the batches came from.
  assert.equal(traces.length, 1);
  report.traceOfProducedEvents = traceSummary(traces[0] as TraceSpan[]);
});

test('an event posted to the HTTP ingest continues the request’s trace through the same stages', { timeout: 300_000 }, async () => {
  const res = await fetch(`http://127.0.0.1:${ports.api}/transactions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': `otel-${env.runId}`, authorization: `Bearer ${localApiToken(env.config)}` },
    body: JSON.stringify({ account: 'otel-acc', type: 'credit', amountMinor: '1250', currency: 'EUR', occurredAt: new Date().toISOString() }),
  });
  assert.equal(res.status, 202, await res.text());
  const topic = env.config.kafka.topic;
  const route = (s: TraceSpan) => s.tags['http.route'] ?? s.tags['url.path'] ?? s.tags['http.target'];
  const isRequest = (s: TraceSpan) => s.service === 'ledgerflow-api' && s.tags['span.kind'] === 'server' && route(s) === '/transactions';
  const { traces, problems } = await waitForTraces('ledgerflow-api', isRequest, topic);
  assert.deepEqual(problems, []);
  assert.equal(traces.length, 1);
  report.traceOfIngestedEvent = traceSummary(traces[0] as TraceSpan[]);
});

// ---------------------------------------------------------------------------------------------
// Metrics: /metrics of each process against what the collector received

const scrape = async (url: string, headers: Record<string, string> = {}) =>
  parseExposition(await (await fetch(url, { headers, signal: AbortSignal.timeout(10_000) })).text());
// The api's /metrics takes a credential of scope metrics (docs/decisions/018-api-authentication.md).
const processMetrics = (role: keyof typeof ports) =>
  scrape(`http://127.0.0.1:${ports[role]}/metrics`, role === 'api' ? { authorization: `Bearer ${localApiToken(env.config)}` } : {});

/** The series compared, per process: the pipeline's, the database pool's, the API's, the fraud detector's. */
const COMPARED: Record<keyof typeof ports, string[]> = {
  consumer: [
    'ledgerflow_events_consumed_total',
    'ledgerflow_consumer_lag',
    'ledgerflow_produce_to_commit_seconds_bucket',
    'ledgerflow_produce_to_commit_seconds_sum',
    'ledgerflow_produce_to_commit_seconds_count',
    'messaging_process_duration_seconds_count',
    'ledgerflow_batch_size_count',
    'ledgerflow_batches_total',
  ],
  worker: [
    'ledgerflow_transactions_stored_total',
    'ledgerflow_apply_duration_seconds_count',
    'ledgerflow_fraud_flagged_total',
    'db_client_operation_duration_seconds_count',
    'db_client_connection_max',
    'ledgerflow_db_transaction_duration_seconds_count',
  ],
  // The ingest route only: every scrape of /metrics is itself a request the api counts.
  api: ['http_server_request_duration_seconds_count{http_route="/transactions"}', 'ledgerflow_events_produced_total', 'db_client_connection_max'],
};
/** The Temporal SDK series the dashboards read, exported by the worker's core SDK itself. */
const TEMPORAL_SERIES = [
  'temporal_workflow_task_schedule_to_start_latency_seconds_bucket',
  'temporal_workflow_endtoend_latency_seconds_bucket',
  'temporal_local_activity_execution_latency_seconds_bucket',
  'temporal_worker_task_slots_used',
];

interface Compared {
  process: string;
  series: string;
  metricsEndpoint: number;
  collector: number | undefined;
}

async function compareOnce(collector: Sample[]): Promise<Compared[]> {
  const out: Compared[] = [];
  for (const role of Object.keys(COMPARED) as Array<keyof typeof ports>) {
    const own = await processMetrics(role);
    const theirs = new Map(
      collector.filter((s) => s.labels.job === `ledgerflow-${role}` && s.labels.instance === instanceOf(role)).map((s) => [seriesKey(s, PATH_LABELS), s.value]),
    );
    for (const selector of COMPARED[role]) {
      const [name = '', where] = selector.replace(/}$/, '').split('{');
      const samples = samplesOf(own, name, where ? Object.fromEntries(where.split(',').map((kv) => kv.split('=').map((x) => x.replace(/"/g, '')) as [string, string])) : {});
      assert.ok(samples.length > 0, `${role} /metrics has no ${name}`);
      for (const s of samples) out.push({ process: role, series: seriesKey(s, PATH_LABELS), metricsEndpoint: s.value, collector: theirs.get(seriesKey(s, PATH_LABELS)) });
    }
  }
  return out;
}

/** The consumer's committed count and lag once every event is in (they stop moving then). */
async function waitForQuiescence(expected: number): Promise<void> {
  const deadline = Date.now() + 180_000;
  for (;;) {
    const own = await processMetrics('consumer');
    const consumed = samplesOf(own, 'ledgerflow_events_consumed_total').reduce((sum, s) => sum + s.value, 0);
    const lag = samplesOf(own, 'ledgerflow_consumer_lag');
    if (consumed === expected && lag.length > 0 && lag.every((s) => s.value === 0)) return;
    assert.ok(Date.now() < deadline, `consumer at ${consumed}/${expected} events, lag ${lag.map((s) => s.value).join(',')}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** The OTLP/JSON data points of `metric` from `instance`'s last export in the collector's file output. */
function fileDataPoints(metric: string, instance: string): Array<{ attributes: Record<string, unknown>; value: number }> {
  type Attr = { key: string; value: Record<string, unknown> };
  type Point = { attributes?: Attr[]; asInt?: string; asDouble?: number };
  type Line = { resourceMetrics?: Array<{ resource?: { attributes?: Attr[] }; scopeMetrics?: Array<{ metrics?: Array<{ name: string; sum?: { dataPoints?: Point[] } }> }> }> };
  const valueOf = (v: Record<string, unknown>) => Object.values(v)[0];
  let last: Point[] = [];
  for (const line of fs.readFileSync(urls.metricsFile, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    for (const rm of (JSON.parse(line) as Line).resourceMetrics ?? []) {
      if (valueOf(rm.resource?.attributes?.find((a) => a.key === 'service.instance.id')?.value ?? {}) !== instance) continue;
      for (const sm of rm.scopeMetrics ?? []) for (const m of sm.metrics ?? []) if (m.name === metric) last = m.sum?.dataPoints ?? [];
    }
  }
  return last.map((p) => ({
    attributes: Object.fromEntries((p.attributes ?? []).map((a) => [a.key, valueOf(a.value)])),
    value: p.asInt !== undefined ? Number(p.asInt) : Number(p.asDouble),
  }));
}

test('the collector serves every compared series under the same name and with the same value as /metrics', { timeout: 420_000 }, async () => {
  const producer = spawnLedgerflow('produce', childEnv({}), ['--count', String(PRODUCED), '--rate', '0', '--accounts', '50', '--seed', '11']);
  children.push(producer);
  assert.equal((await exited(producer)).code, 0, producer.output.join(''));
  // 6 from the first test, 1 posted to the api, and these.
  await waitForQuiescence(6 + 1 + PRODUCED);
  // Idle now: each value must reach the collector within an export interval or two.
  let compared: Compared[] = [];
  const deadline = Date.now() + 60 * EXPORT_INTERVAL_MS;
  for (;;) {
    compared = await compareOnce(await scrape(urls.prometheus));
    if (compared.every((c) => c.collector === c.metricsEndpoint) || Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, EXPORT_INTERVAL_MS));
  }
  const differing = compared.filter((c) => c.collector !== c.metricsEndpoint);
  assert.deepEqual(differing, [], 'series whose collector value differs from /metrics');
  for (const name of ['ledgerflow_events_consumed_total', 'ledgerflow_consumer_lag', 'ledgerflow_produce_to_commit_seconds_count']) {
    assert.ok(compared.some((c) => c.series.startsWith(`${name}{`)), `${name} compared`);
  }
  const consumedOwn = compared.filter((c) => c.series.startsWith('ledgerflow_events_consumed_total{')).reduce((sum, c) => sum + c.metricsEndpoint, 0);
  assert.equal(consumedOwn, 6 + 1 + PRODUCED);

  // The file output holds the OTLP data as sent: the OpenTelemetry name, the same committed counts.
  const filePoints = fileDataPoints('ledgerflow.events.consumed', instanceOf('consumer'));
  assert.equal(filePoints.reduce((sum, p) => sum + p.value, 0), consumedOwn, 'ledgerflow.events.consumed in the collector file output');

  // The worker's Temporal core SDK exports OTLP itself: the dashboards' series arrive under their Prometheus names.
  const collector = await scrape(urls.prometheus);
  const temporal = TEMPORAL_SERIES.map((name) => ({ name, samples: collector.filter((s) => s.name === name).length }));
  assert.deepEqual(temporal.filter((t) => t.samples === 0), [], 'Temporal SDK series missing at the collector');

  report.series = compared;
  report.fileOutput = { metric: 'ledgerflow.events.consumed', instance: instanceOf('consumer'), points: filePoints };
  report.temporalSdkSeries = temporal;
  writeReportIfAsked();
});

function writeReportIfAsked(): void {
  const file = process.env.LF_OTEL_REPORT;
  if (!file) return;
  const git = (...args: string[]) => execFileSync('git', args, { encoding: 'utf8' }).trim();
  const cpus = os.cpus();
  const out = {
    generatedBy: 'LF_OTEL_REPORT=docs/reports/otel.json node --import tsx --test test/integration/otel-collector.test.ts',
    commit: git('rev-parse', 'HEAD'),
    uncommittedChanges: git('status', '--porcelain', '--untracked-files=no') !== '',
    machine: { cpuModel: cpus[0]?.model ?? 'unknown', cores: cpus.length },
    collector: { version: OTELCOL_VERSION, build: 'go.opentelemetry.io/collector/cmd/builder (otlp receiver; batch; prometheus, file, otlp_grpc exporters)' },
    jaeger: { version: JAEGER_VERSION, storage: 'memory' },
    exportIntervalMs: EXPORT_INTERVAL_MS,
    eventsProduced: 6 + 1 + PRODUCED,
    protocols: { worker: 'http/protobuf (Temporal SDK metrics too)', consumer: 'http/protobuf', api: 'grpc', producer: 'http/protobuf metrics, http/json traces' },
    ...report,
  };
  fs.writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
}
