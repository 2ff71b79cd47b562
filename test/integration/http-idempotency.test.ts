import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startApi, type ApiHandle } from '../../src/api';
import { createKafka } from '../../src/kafka/client';
import { deleteExpiredClaims } from '../../src/store/idempotency';
import { createPool, type Pool } from '../../src/store/pool';
import { highWatermarks } from '../../src/verify/kafkaRead';
import { bearer, createTestKeys, type TestKeys } from '../helpers/apiKeys';
import { createTestPipeline, type TestPipeline } from '../helpers/pipeline';

/**
 * One Idempotency-Key, one payment (docs/decisions/019-http-idempotency.md): the same body again
 * gets the first answer and produces nothing; another body gets 422 naming what differs and
 * produces nothing; concurrent duplicates never produce twice, also across two api replicas
 * sharing the database; keys belong to their client; the binding ends with the retention.
 */
let env: TestPipeline;
let keys: TestKeys;
let apis: ApiHandle[] = [];
let pool: Pool;

before(async () => {
  keys = createTestKeys([
    { id: 'shop-a', scopes: ['ingest'] },
    { id: 'shop-b', scopes: ['ingest'] },
  ]);
  env = await createTestPipeline('http-idem', { 'api.keysFile': keys.file, 'api.idempotencyRetentionS': 3 });
  apis = [await startApi(env.config, env.log), await startApi(env.config, env.log)];
  pool = createPool(env.config, 'app', 2);
});

after(async () => {
  for (const api of apis) await api.stop();
  await pool?.end();
  await env?.dispose();
  keys?.remove();
});

const tx = (over: Record<string, unknown> = {}) => ({ account: 'idem-acc', type: 'credit', amountMinor: '100', currency: 'EUR', occurredAt: '2026-11-25T08:00:00Z', ...over });

async function post(body: unknown, key: string, client = 'shop-a', replica = 0) {
  const res = await fetch(`http://127.0.0.1:${(apis[replica] as ApiHandle).port}/transactions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': key, ...bearer(keys.tokens[client] as string) },
    body: JSON.stringify(body),
  });
  return { status: res.status, replayed: res.headers.get('idempotent-replayed'), retryAfter: res.headers.get('retry-after'), body: (await res.json()) as Record<string, any> };
}

async function produced(): Promise<bigint> {
  const highs = await highWatermarks(createKafka(env.config, 'test'), env.config.kafka.topic);
  return [...highs.values()].reduce((a, b) => a + b, 0n);
}

test('the same key and body: the first answer again, nothing produced twice', async () => {
  const before = await produced();
  const first = await post(tx(), 'idem-same-0001');
  assert.equal(first.status, 202);
  assert.equal(first.replayed, null);
  const again = await post(tx({ amountMinor: 100, occurredAt: '2026-11-25T10:00:00+02:00' }), 'idem-same-0001', 'shop-a', 1);
  assert.equal(again.status, 202, 'normalised, the body is the same: the other replica answers from the database');
  assert.equal(again.replayed, 'true');
  assert.deepEqual(again.body, first.body);
  assert.equal(await produced(), before + 1n, 'one message on the topic');
});

test('the same key with another body: 422 naming the key and the fields that differ; nothing produced', async () => {
  const first = await post([tx(), tx({ account: 'idem-other' })], 'idem-diff-0001');
  assert.equal(first.status, 202);
  const before = await produced();
  const changed = await post([tx({ amountMinor: '999' }), tx({ account: 'idem-other', description: 'late edit' })], 'idem-diff-0001');
  assert.equal(changed.status, 422, JSON.stringify(changed.body));
  assert.equal(changed.body.error.code, 'LF_IDEMPOTENCY_KEY_REUSED');
  assert.equal(changed.body.error.key, 'idem-diff-0001');
  assert.deepEqual(changed.body.error.differences, [
    { field: '[0].amountMinor', first: '100', now: '999' },
    { field: '[1].description', first: null, now: 'late edit' },
  ]);
  const fewer = await post([tx()], 'idem-diff-0001');
  assert.deepEqual(fewer.body.error.differences[0], { field: 'items', first: '2', now: '1' });
  assert.equal(await produced(), before, 'nothing reached Kafka');
  const original = await post([tx(), tx({ account: 'idem-other' })], 'idem-diff-0001');
  assert.deepEqual([original.status, original.body], [202, first.body], 'the first body still gets its answer');
});

test('concurrent duplicates on two replicas: one owner produces, the others get 409 or the first answer, never a second event', async () => {
  const before = await produced();
  const racers = await Promise.all(Array.from({ length: 12 }, (_, i) => post(tx({ account: 'idem-race' }), 'idem-race-0001', 'shop-a', i % 2)));
  const statuses = racers.map((r) => r.status);
  assert.ok(statuses.every((s) => s === 202 || s === 409), JSON.stringify(statuses));
  const owners = racers.filter((r) => r.status === 202 && r.replayed === null);
  assert.equal(owners.length, 1, `exactly one request produced: ${JSON.stringify(racers.map((r) => [r.status, r.replayed]))}`);
  for (const r of racers.filter((x) => x.status === 409)) {
    assert.equal(r.body.error.code, 'LF_IDEMPOTENCY_KEY_IN_FLIGHT');
    assert.equal(r.retryAfter, '1');
  }
  for (const r of racers.filter((x) => x.status === 202)) assert.deepEqual(r.body, owners[0]?.body);
  assert.equal(await produced(), before + 1n);
});

test('keys belong to their client: another client with the same key is a different payment', async () => {
  const a = await post(tx(), 'idem-shared-0001', 'shop-a');
  const b = await post(tx({ amountMinor: '555' }), 'idem-shared-0001', 'shop-b');
  assert.equal(a.status, 202);
  assert.equal(b.status, 202, 'no 422: the key is shop-b\'s own');
  assert.notDeepEqual(a.body.ids, b.body.ids, 'and its ids are its own');
});

test('after the retention the key is free again; the retention job deletes the old rows', { timeout: 60_000 }, async () => {
  const first = await post(tx(), 'idem-old-0001');
  assert.equal((await post(tx(), 'idem-gone-0001')).status, 202);
  await new Promise((r) => setTimeout(r, 3_500));
  const reused = await post(tx({ amountMinor: '777' }), 'idem-old-0001');
  assert.equal(reused.status, 202, 'past the retention a key is bound anew');
  assert.equal(reused.replayed, null);
  assert.deepEqual(reused.body.ids, first.body.ids, 'the same ids: a reuse with other content is then caught downstream as an id conflict');
  assert.ok((await deleteExpiredClaims(pool, 3, 1_000)) >= 1);
  const [rows] = await pool.query('SELECT idem_key FROM idempotency_keys WHERE client_id = ? AND idem_key IN (?, ?)', ['shop-a', 'idem-old-0001', 'idem-gone-0001']);
  assert.deepEqual((rows as Array<{ idem_key: string }>).map((r) => r.idem_key), ['idem-old-0001'], 'the expired key is deleted, the rebound one kept');
});
