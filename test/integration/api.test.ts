import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startApi, type ApiHandle } from '../../src/api';
import type { ConsumerHandle } from '../../src/consumer';
import { createKafka } from '../../src/kafka/client';
import { highWatermarks } from '../../src/verify/kafkaRead';
import { verify } from '../../src/verify';
import type { WorkerHandle } from '../../src/worker';
import { createTestPipeline, type TestPipeline } from '../helpers/pipeline';

/** HTTP ingest and reads against the real pipeline: idempotency keys, 400s that produce nothing, paging. */
let env: TestPipeline;
let worker: WorkerHandle;
let consumer: ConsumerHandle;
let api: ApiHandle;
let base: string;

before(async () => {
  env = await createTestPipeline('api');
  worker = await env.startWorker();
  consumer = await env.startConsumer();
  api = await startApi(env.config, env.log);
  base = `http://127.0.0.1:${api.port}`;
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
    headers: { 'content-type': 'application/json', ...(key ? { 'idempotency-key': key } : {}) },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
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
  ];
  for (const [body, key, message] of cases) {
    const res = await post(body, key);
    assert.equal(res.status, 400, JSON.stringify(res.body));
    assert.match(res.body.error.message, message);
    assert.ok(res.body.error.code.startsWith('LF_'));
  }
  assert.equal(await produced(), before, 'no message reached Kafka');
});

test('the same Idempotency-Key twice yields the same ids and one stored transaction', { timeout: 180_000 }, async () => {
  const first = await post(tx(), 'order-0001-abc');
  const second = await post(tx(), 'order-0001-abc');
  assert.equal(first.status, 202);
  assert.deepEqual(second.body.ids, first.body.ids);
  const page = Array.from({ length: 7 }, (_, i) => tx({ account: 'http-bob', amountMinor: String(100 + i), occurredAt: `2026-11-25T08:00:0${i}Z` }));
  const batch = await post(page, 'order-0002-batch');
  assert.equal(batch.status, 202);
  assert.equal(batch.body.ids.length, 7);
  assert.equal(new Set(batch.body.ids).size, 7);

  const report = await verify(env.config, { waitMs: 120_000 }, env.log);
  assert.equal(report.ok, true, JSON.stringify(report));
  assert.equal(report.duplicateSends, 1);
  assert.equal(report.stored, 8);

  const one = await fetch(`${base}/transactions/${first.body.ids[0]}`);
  assert.equal(one.status, 200);
  const row = (await one.json()) as Record<string, any>;
  assert.equal(row.status, 'applied');
  assert.equal(row.amountMinor, '10000');

  const balance = (await (await fetch(`${base}/accounts/http-alice/balance`)).json()) as Record<string, any>;
  assert.deepEqual(balance.balances.map((b: { balanceMinor: string }) => b.balanceMinor), ['10000']);

  // Keyset paging: 3 + 3 + 1, newest first, no overlap.
  const seen: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const url: string = `${base}/accounts/http-bob/transactions?limit=3${cursor ? `&cursor=${cursor}` : ''}`;
    const res = (await (await fetch(url)).json()) as { items: Array<{ id: string; occurredAt: string }>; nextCursor: string | null };
    seen.push(...res.items.map((i) => i.id));
    cursor = res.nextCursor;
    pages += 1;
  } while (cursor && pages < 10);
  assert.equal(pages, 3);
  assert.deepEqual([...seen].sort(), [...batch.body.ids].sort());
  assert.equal(seen[0], batch.body.ids[6], 'newest first');

  const summary = (await (await fetch(`${base}/stats/summary`)).json()) as Record<string, any>;
  assert.equal(summary.transactions.applied, '8');
});

test('reads validate their input; probes, metrics, OpenAPI and the live feed answer', async () => {
  assert.equal((await fetch(`${base}/transactions/not-a-uuid`)).status, 400);
  assert.equal((await fetch(`${base}/transactions/019a0000-0000-7000-8000-000000000999`)).status, 404);
  assert.equal((await fetch(`${base}/accounts/bad%20account/transactions`)).status, 400);
  assert.equal((await fetch(`${base}/accounts/http-bob/transactions?limit=0`)).status, 400);
  assert.equal((await fetch(`${base}/accounts/http-bob/transactions?cursor=zzz`)).status, 400);
  assert.equal((await fetch(`${base}/healthz`)).status, 200);
  assert.equal((await fetch(`${base}/readyz`)).status, 200);
  assert.match(await (await fetch(`${base}/metrics`)).text(), /http_server_request_duration_seconds_count/);
  const spec = (await (await fetch(`${base}/openapi.json`)).json()) as { openapi: string; paths: Record<string, unknown> };
  assert.equal(spec.openapi, '3.1.0');
  assert.ok(spec.paths['/accounts/{account}/transactions']);
  assert.match(await (await fetch(`${base}/`)).text(), /EventSource/);

  const controller = new AbortController();
  const res = await fetch(`${base}/events`, { signal: controller.signal });
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const { value } = await reader.read();
  controller.abort();
  assert.match(Buffer.from(value as Uint8Array).toString('utf8'), /event: summary\ndata: \{/);
});
