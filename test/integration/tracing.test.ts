/**
 * One produced event yields one connected trace across every stage: the producer's send, the
 * consumer's batch, the Temporal workflow start/run, the activity, and its MySQL queries. Real
 * producer, consumer and worker processes export over OTLP/HTTP (JSON) to a receiver in this test.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { localApiToken } from '../../src/stack';
import { createTestPipeline, type TestPipeline } from '../helpers/pipeline';
import { exited, freePort, spawnLedgerflow, waitForStatus } from '../helpers/processes';

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes?: Array<{ key: string; value: Record<string, unknown> }>;
}
interface ReceivedSpan extends OtlpSpan {
  service: string;
}
interface ExportRequest {
  resourceSpans?: Array<{ resource?: { attributes?: OtlpSpan['attributes'] }; scopeSpans?: Array<{ spans?: OtlpSpan[] }> }>;
}

const attr = (attrs: OtlpSpan['attributes'], key: string) => {
  const v = attrs?.find((a) => a.key === key)?.value;
  return v ? String(Object.values(v)[0]) : undefined;
};

/** A minimal OTLP/HTTP traces endpoint: accepts JSON export requests and keeps every span. */
async function startReceiver(): Promise<{ url: string; spans: ReceivedSpan[]; close(): Promise<void> }> {
  const spans: ReceivedSpan[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/traces' || !String(req.headers['content-type']).startsWith('application/json')) {
        res.writeHead(415).end();
        return;
      }
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as ExportRequest;
      for (const rs of body.resourceSpans ?? []) {
        const service = attr(rs.resource?.attributes, 'service.name') ?? '';
        for (const ss of rs.scopeSpans ?? []) for (const s of ss.spans ?? []) spans.push({ ...s, service });
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, spans, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** The stages every produced event must cross after its send, each matched by a span of its trace. */
const STAGES: Array<[string, (s: ReceivedSpan, topic: string) => boolean]> = [
  ['consumer batch', (s, topic) => s.name === `process ${topic}` && s.service === 'ledgerflow-consumer'],
  ['workflow start', (s) => s.name === 'StartWorkflow:processBatch' && s.service === 'ledgerflow-consumer'],
  ['workflow run', (s) => s.name === 'RunWorkflow:processBatch' && s.service === 'ledgerflow-worker'],
  ['activity start', (s) => s.name === 'StartActivity:applyBatch' && s.service === 'ledgerflow-worker'],
  ['activity run', (s) => s.name === 'RunActivity:applyBatch' && s.service === 'ledgerflow-worker'],
  ['mysql query', (s) => (attr(s.attributes, 'db.system') ?? attr(s.attributes, 'db.system.name')) === 'mysql' && s.service === 'ledgerflow-worker'],
];
const SPAN_KIND_SERVER = 2;
const isSend = (service: string, topic: string) => (s: ReceivedSpan) => s.name === `send ${topic}` && s.service === service;

/** Stages missing from the trace of `root`, or why that trace is not one tree under `root`. */
function traceProblems(spans: ReceivedSpan[], root: ReceivedSpan, topic: string, sendService: string): string[] {
  const trace = spans.filter((s) => s.traceId === root.traceId);
  const ids = new Set(trace.map((s) => s.spanId));
  const stages: typeof STAGES = [['send', isSend(sendService, topic)], ...STAGES];
  const problems = stages.filter(([, match]) => !trace.some((s) => match(s, topic))).map(([stage]) => `no ${stage} span`);
  const roots = trace.filter((s) => !s.parentSpanId);
  if (roots.length !== 1 || roots[0]?.spanId !== root.spanId) problems.push(`roots: ${roots.map((s) => `${s.service}:${s.name}`).join(', ')}`);
  for (const s of trace) {
    if (s.parentSpanId && !ids.has(s.parentSpanId)) problems.push(`${s.name} (${s.service}): parent ${s.parentSpanId} not in the trace`);
  }
  return problems;
}

/** Polls until every root's trace is complete (spans arrive in export batches) or the deadline passes. */
async function waitForTraces(roots: () => ReceivedSpan[], sendService: string, topic: string): Promise<string[]> {
  let problems: string[] = ['no root span'];
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const found = roots();
    problems = found.length === 0 ? ['no root span'] : found.flatMap((root) => traceProblems(receiver.spans, root, topic, sendService));
    if (problems.length === 0) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  return problems;
}

const seen = () => [...new Set(receiver.spans.map((s) => `${s.service}:${s.name}`))].join(', ');

let env: TestPipeline;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
let childEnv: (more: Record<string, unknown>) => NodeJS.ProcessEnv;
const children: Array<ReturnType<typeof spawnLedgerflow>> = [];

before(async () => {
  receiver = await startReceiver();
  env = await createTestPipeline('tracing');
  childEnv = (more) => ({
    ...env.childEnv({ 'tracing.enabled': true, 'producer.httpPort': 0, ...more }),
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_BSP_SCHEDULE_DELAY: '200',
  });
  const [consumerPort, workerPort] = [await freePort(), await freePort()];
  const worker = spawnLedgerflow('work', childEnv({ 'worker.httpPort': workerPort }));
  const consumer = spawnLedgerflow('consume', childEnv({ 'consumer.httpPort': consumerPort }));
  children.push(worker, consumer);
  await waitForStatus(`http://127.0.0.1:${workerPort}/readyz`, 200, 90_000);
  await waitForStatus(`http://127.0.0.1:${consumerPort}/readyz`, 200, 90_000);
});

after(async () => {
  // The worker last: a consumer draining a batch needs it to finish the workflow.
  const [worker, ...others] = children;
  for (const group of [others, worker ? [worker] : []]) {
    for (const c of group) if (c.exitCode === null) c.kill('SIGTERM');
    await Promise.all(group.map((c) => exited(c)));
  }
  await env?.dispose();
  await receiver?.close();
});

test('a produced event yields one connected trace: send → batch → workflow → activity → MySQL', { timeout: 180_000 }, async () => {
  const producer = spawnLedgerflow('produce', childEnv({}), ['--count', '6', '--rate', '0', '--accounts', '3', '--seed', '7']);
  children.push(producer);
  const { code } = await exited(producer);
  assert.equal(code, 0, producer.output.join(''));

  const topic = env.config.kafka.topic;
  const sends = () => receiver.spans.filter(isSend('ledgerflow-producer', topic));
  assert.deepEqual(await waitForTraces(sends, 'ledgerflow-producer', topic), [], `spans seen: ${seen()}`);
  // Six events of one send: one trace, whatever partitions the batches came from.
  assert.equal(sends().length, 1);
});

test('an event posted to the HTTP ingest continues the request’s trace through the same stages', { timeout: 180_000 }, async () => {
  const apiPort = await freePort();
  const api = spawnLedgerflow('api', childEnv({ 'api.port': apiPort }));
  children.push(api);
  await waitForStatus(`http://127.0.0.1:${apiPort}/readyz`, 200, 90_000);
  const res = await fetch(`http://127.0.0.1:${apiPort}/transactions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': `trace-${env.runId}`, authorization: `Bearer ${localApiToken(env.config)}` },
    body: JSON.stringify({ account: 'trace-acc', type: 'credit', amountMinor: '1250', currency: 'EUR', occurredAt: new Date().toISOString() }),
  });
  assert.equal(res.status, 202, await res.text());

  const topic = env.config.kafka.topic;
  // The http instrumentation's server span (older or newer semantic conventions name the path differently).
  const path = (s: ReceivedSpan) => attr(s.attributes, 'http.route') ?? attr(s.attributes, 'url.path') ?? attr(s.attributes, 'http.target');
  const requests = () => receiver.spans.filter((s) => s.service === 'ledgerflow-api' && s.kind === SPAN_KIND_SERVER && path(s) === '/transactions');
  assert.deepEqual(await waitForTraces(requests, 'ledgerflow-api', topic), [], `spans seen: ${seen()}`);
  assert.equal(requests().length, 1);
});
