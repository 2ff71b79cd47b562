import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startApi, type ApiHandle } from '../../src/api';
import type { ConsumerHandle } from '../../src/consumer';
import { createKafka } from '../../src/kafka/client';
import { highWatermarks } from '../../src/verify/kafkaRead';
import { localApiToken } from '../../src/stack';
import { verify } from '../../src/verify';
import type { WorkerHandle } from '../../src/worker';
import { createTestPipeline, type TestPipeline } from '../helpers/pipeline';

/** HTTP ingest and reads against the real pipeline: idempotency keys, 400s that produce nothing, paging. Authentication has its own file (api-auth). */
let env: TestPipeline;
let worker: WorkerHandle;
let consumer: ConsumerHandle;
let api: ApiHandle;
let base: string;
let auth: { authorization: string };
/** GET with the local stack's credential (every scope). */
const get = (path: string) => fetch(`${base}${path}`, { headers: auth });

before(async () => {
  env = await createTestPipeline('api');
  worker = await env.startWorker();
  consumer = await env.startConsumer();
  api = await startApi(env.config, env.log);
  base = `http://127.0.0.1:${api.port}`;
  auth = { authorization: `Bearer ${localApiToken(env.config)}` };
});

after(async () => {
  await api?.stop();
  await consumer?.stop();
  await worker?.stop();
  await env?.dispose();
});

const tx = (over: Record<string, unknown> = {}) => ({ account: 'http-alice', type: 'credit', amountMinor: '10000', currency: 'EUR', occurredAt: '2026-11-25T08:00:00Z', ...over });

async function post(body: unknown, key?: string) {
  const res = await fetch(`${base}/transactions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...auth, ...(key ? { 'idempotency-key': key } : {}) },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, replayed: res.headers.get('idempotent-replayed'), body: (await res.json()) as Record<string, any> };
}

async function produced(): Promise<bigint> {
  const highs = await highWatermarks(createKafka(env.config, 'test'), env.config.kafka.topic);
  return [...highs.values()].reduce((a, b) => a + b, 0n);
}

test('bad requests are 400s naming the field, and nothing is produced', async () => {
  const before = await produced();
  const cases: Array<[unknown, string | undefined, RegExp]> = [
    [tx(), undefined, /Idempotency-Key/],
    [tx({ amountMinor: '-5' }), 'key-bad-0001', /amountMinor/],
    [tx({ type: 'refund' }), 'key-bad-0002', /type/],
    [[tx(), tx({ currency: 'euro' })], 'key-bad-0003', /\[1\]\.currency/],
    [tx({ id: '019a0000-0000-7000-8000-000000000001' }), 'key-bad-0004', /id: must not be set/],
    [tx({ type: 'transfer' }), 'key-bad-0005', /counterparty/],
    ['{"account":', 'key-bad-0006', /JSON/i],
    [[], 'key-bad-0007', /1 to/],
    [tx({ type: 'debit', counterparty: 'http-bob' }), 'key-bad-0008', /counterparty: is only allowed on a transfer/],
    [tx({ occurredAt: '2026-02-30T08:00:00Z' }), 'key-bad-0009', /occurredAt/],
    [tx({ description: '\u{1F4B8}'.repeat(141) }), 'key-bad-0010', /description: must be at most 140 characters/],
  ];
  for (const [body, key, message] of cases) {
    const res = await post(body, key);
    assert.equal(res.status, 400, JSON.stringify(res.body));
    assert.match(res.body.error.message, message);
    assert.ok(res.body.error.code.startsWith('LF_'));
  }
  assert.equal(await produced(), before, 'no message reached Kafka');
});

test('the same Idempotency-Key twice yields the first answer and one stored transaction', { timeout: 180_000 }, async () => {
  const first = await post(tx(), 'order-0001-abc');
  // The same payment, written differently: a one-item array, the amount as a number, the instant with an offset.
  const second = await post([tx({ amountMinor: 10000, occurredAt: '2026-11-25T09:00:00+01:00' })], 'order-0001-abc');
  assert.equal(first.status, 202);
  assert.equal(second.status, 202);
  assert.equal(second.replayed, 'true', 'answered from the recorded first answer, not produced again');
  assert.deepEqual(second.body.ids, first.body.ids);
  const page = Array.from({ length: 7 }, (_, i) => tx({ account: 'http-bob', amountMinor: String(100 + i), occurredAt: `2026-11-25T08:00:0${i}Z` }));
  const batch = await post(page, 'order-0002-batch');
  assert.equal(batch.status, 202);
  assert.equal(batch.body.ids.length, 7);
  assert.equal(new Set(batch.body.ids).size, 7);

  const report = await verify(env.config, { waitMs: 120_000 }, env.log);
  assert.equal(report.ok, true, JSON.stringify(report));
  assert.equal(report.duplicateSends, 0, 'the retry was answered without producing');
  assert.equal(report.stored, 8);

  const one = await get(`/transactions/${first.body.ids[0]}`);
  assert.equal(one.status, 200);
  const row = (await one.json()) as Record<string, any>;
  assert.equal(row.status, 'applied');
  assert.equal(row.amountMinor, '10000');

  const balance = (await (await get('/accounts/http-alice/balance')).json()) as Record<string, any>;
  assert.deepEqual(balance.balances.map((b: { balanceMinor: string }) => b.balanceMinor), ['10000']);

  // Keyset paging: 3 + 3 + 1, newest first, no overlap.
  const seen: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const url: string = `/accounts/http-bob/transactions?limit=3${cursor ? `&cursor=${cursor}` : ''}`;
    const res = (await (await get(url)).json()) as { items: Array<{ id: string; occurredAt: string }>; nextCursor: string | null };
    seen.push(...res.items.map((i) => i.id));
    cursor = res.nextCursor;
    pages += 1;
  } while (cursor && pages < 10);
  assert.equal(pages, 3);
  assert.deepEqual([...seen].sort(), [...batch.body.ids].sort());
  assert.equal(seen[0], batch.body.ids[6], 'newest first');

  const summary = (await (await get('/stats/summary')).json()) as Record<string, any>;
  assert.equal(summary.transactions.applied, '8');
});

test('reads validate their input; probes, metrics, OpenAPI and the live feed answer', async () => {
  assert.equal((await get('/transactions/not-a-uuid')).status, 400);
  assert.equal((await get('/transactions/019a0000-0000-7000-8000-000000000999')).status, 404);
  assert.equal((await get('/accounts/bad%20account/transactions')).status, 400);
  assert.equal((await get('/accounts/http-bob/transactions?limit=0')).status, 400);
  assert.equal((await get('/accounts/http-bob/transactions?cursor=zzz')).status, 400);
  assert.equal((await get('/accounts/http-bob/transactions?cursor=')).status, 400, 'an empty cursor is refused, as the contract says (pattern)');
  assert.equal((await fetch(`${base}/healthz`)).status, 200, 'probes need no credential');
  assert.equal((await fetch(`${base}/readyz`)).status, 200);
  assert.match(await (await get('/metrics')).text(), /http_server_request_duration_seconds_count/);
  const spec = (await (await get('/openapi.json')).json()) as { openapi: string; paths: Record<string, Record<string, { responses: Record<string, unknown> }>> };
  assert.equal(spec.openapi, '3.1.0');
  assert.ok(spec.paths['/accounts/{account}/transactions']);
  assert.deepEqual(Object.keys(spec.paths['/transactions']?.post?.responses ?? {}).sort(), ['202', '400', '401', '403', '409', '422', '429', '503']);
  assert.match(await (await fetch(`${base}/`)).text(), /EventSource/);

  const controller = new AbortController();
  const res = await fetch(`${base}/events`, { signal: controller.signal, headers: auth });
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const { value } = await reader.read();
  controller.abort();
  assert.match(Buffer.from(value as Uint8Array).toString('utf8'), /event: summary\ndata: \{/);
});

test('an undeclared method is 405 with Allow, before the body is read', async () => {
  for (const [method, path, allow] of [
    ['PUT', '/transactions', 'POST'],
    ['DELETE', '/stats/summary', 'GET, HEAD'],
    ['PATCH', '/healthz', 'GET, HEAD'],
    ['QUERY', '/accounts/http-bob/balance', 'GET, HEAD'],
  ] as const) {
    const res = await fetch(`${base}${path}`, { method, headers: { ...auth, 'content-type': 'application/json' }, body: method === 'DELETE' ? undefined : '{not json' });
    assert.equal(res.status, 405, `${method} ${path}`);
    assert.equal(res.headers.get('allow'), allow);
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'LF_METHOD_NOT_ALLOWED');
  }
});
