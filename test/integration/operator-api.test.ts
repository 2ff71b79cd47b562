/**
 * Operators see and repair over HTTP what `ledgerflow parked` and `ledgerflow conflicts` show
 * (scope `operator`), on real Kafka, Temporal and MariaDB: events a real CHECK constraint makes the
 * store refuse are parked and listed by GET /parked (paged, by partition); after the fix, POST
 * /parked/{id}/replay (twice) stores the event exactly once; two events with one id and other
 * content are listed by GET /conflicts.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startApi, type ApiHandle } from '../../src/api';
import { newTransactionId } from '../../src/domain/ids';
import { partitionOfKey } from '../../src/kafka/client';
import { createPool, type Pool } from '../../src/store/pool';
import { verify } from '../../src/verify';
import { bearer, createTestKeys, type TestKeys } from '../helpers/apiKeys';
import { produceKeyed } from '../helpers/batches';
import { startTestPipeline, type RunningPipeline } from '../helpers/pipeline';

let p: RunningPipeline;
let keys: TestKeys;
let api: ApiHandle;
let admin: Pool;
let base: string;

before(async () => {
  keys = createTestKeys([
    { id: 'ops', scopes: ['operator'] },
    { id: 'reader', scopes: ['read'] },
  ]);
  p = await startTestPipeline('operator-api', { 'api.keysFile': keys.file, 'consumer.lingerMs': 50 });
  api = await startApi(p.env.config, p.env.log);
  base = `http://127.0.0.1:${api.port}`;
  admin = createPool(p.env.config, 'migrate', 1);
});

after(async () => {
  await admin?.query('ALTER TABLE transactions DROP CONSTRAINT IF EXISTS ck_test_operator').catch(() => undefined);
  await admin?.end();
  await api?.stop();
  await p?.stop();
  keys?.remove();
});

const event = (account: string, amountMinor: string, extra: Record<string, string> = {}) => ({
  key: account,
  value: JSON.stringify({ id: newTransactionId(), account, type: 'credit', amountMinor, currency: 'EUR', occurredAt: '2026-12-03T09:00:00.000Z', ...extra }),
});

async function drained(): Promise<void> {
  const report = await verify(p.env.config, { waitMs: 120_000 }, p.env.log);
  assert.equal(report.lag, 0, 'every offset committed');
}

async function get<T>(path: string, token = keys.tokens.ops as string): Promise<{ status: number; body: T }> {
  const res = await fetch(`${base}${path}`, { headers: bearer(token) });
  return { status: res.status, body: (await res.json()) as T };
}

async function storedCount(id: string): Promise<number> {
  const [[row]] = (await p.pool.query('SELECT COUNT(*) AS n FROM transactions WHERE id = ?', [id])) as unknown as [[{ n: number }]];
  return Number(row.n);
}

interface Parked {
  id: string;
  txId: string;
  partition: number;
  payload: string;
  errno: number | null;
  reason: string;
  resolved: boolean;
  replayCount: number;
}
type Page<T> = { items: T[]; nextCursor: string | null };

test('parked events listed by GET /parked (paged, by partition), replayed twice by POST /parked/{id}/replay after the fix: stored once', { timeout: 300_000 }, async () => {
  await admin.query("ALTER TABLE transactions ADD CONSTRAINT ck_test_operator CHECK (description IS NULL OR description <> 'poison')");
  const account = `ops-${p.env.runId}`;
  const partition = partitionOfKey(account, p.env.config.kafka.partitions);
  const poisons = [event(account, '50', { description: 'poison' }), event(account, '70', { description: 'poison' })];
  await produceKeyed(p.env.config, [event(account, '100'), poisons[0]!, poisons[1]!, event(account, '20')]);
  await drained();

  // Paged: one per page, oldest first, the second page the last.
  const first = await get<Page<Parked>>('/parked?limit=1');
  assert.equal(first.status, 200);
  assert.equal(first.body.items.length, 1);
  assert.ok(first.body.nextCursor, 'a second page');
  const second = await get<Page<Parked>>(`/parked?limit=1&cursor=${encodeURIComponent(first.body.nextCursor as string)}`);
  assert.equal(second.body.items.length, 1);
  assert.equal(second.body.nextCursor, null);
  const parked = [...first.body.items, ...second.body.items];
  assert.deepEqual(
    parked.map((x) => x.payload).sort(),
    poisons.map((x) => x.value).sort(),
    'the messages as produced',
  );
  for (const x of parked) {
    assert.equal(x.partition, partition);
    assert.equal(x.errno, 4025);
    assert.match(x.reason, /ck_test_operator/);
    assert.equal(x.resolved, false);
  }
  assert.equal((await get<Page<Parked>>(`/parked?partition=${partition}`)).body.items.length, 2);
  const other = (partition + 1) % p.env.config.kafka.partitions;
  assert.deepEqual((await get<Page<Parked>>(`/parked?partition=${other}`)).body.items, [], 'the filter keeps one partition');

  // Only operators; an unknown source is 404 in the error shape.
  const forbidden = await fetch(`${base}/parked/${parked[0]!.id}/replay`, { method: 'POST', headers: bearer(keys.tokens.reader as string) });
  assert.equal(forbidden.status, 403);
  assert.equal(((await forbidden.json()) as { error: { code: string } }).error.code, 'LF_FORBIDDEN');
  const unknown = await fetch(`${base}/parked/${partition}:999999999/replay`, { method: 'POST', headers: bearer(keys.tokens.ops as string) });
  assert.equal(unknown.status, 404);
  assert.equal(((await unknown.json()) as { error: { code: string } }).error.code, 'LF_NOT_FOUND');

  // The cause goes away; the first parked event is replayed twice: stored once, the other still parked.
  await admin.query('ALTER TABLE transactions DROP CONSTRAINT ck_test_operator');
  const target = parked[0]!;
  const replay = () => fetch(`${base}/parked/${target.id}/replay`, { method: 'POST', headers: bearer(keys.tokens.ops as string) });
  const once = await replay();
  assert.equal(once.status, 202);
  const answer = (await once.json()) as { id: string; txId: string; replayCount: number; alreadyStored: boolean };
  assert.deepEqual([answer.id, answer.txId, answer.replayCount, answer.alreadyStored], [target.id, target.txId, 1, false]);
  await drained();
  const twice = await replay();
  assert.equal(twice.status, 202);
  assert.equal(((await twice.json()) as { alreadyStored: boolean }).alreadyStored, true);
  await drained();
  assert.equal(await storedCount(target.txId), 1, 'stored exactly once');
  assert.equal(await storedCount(parked[1]!.txId), 0, 'the other one was not replayed');

  const unresolved = await get<Page<Parked>>('/parked');
  assert.deepEqual(unresolved.body.items.map((x) => x.id), [parked[1]!.id]);
  const all = await get<Page<Parked>>('/parked?state=all');
  assert.deepEqual(
    all.body.items.map((x) => [x.id, x.resolved, x.replayCount]).sort(),
    [
      [target.id, true, 2],
      [parked[1]!.id, false, 0],
    ].sort(),
  );
});

test('two events with one id and other content: GET /conflicts lists the losing variant and what differs', { timeout: 300_000 }, async () => {
  const account = `dup-${p.env.runId}`;
  const id = newTransactionId();
  const body = { id, account, type: 'credit', currency: 'EUR', occurredAt: '2026-12-03T09:00:00.000Z' };
  await produceKeyed(p.env.config, [
    { key: account, value: JSON.stringify({ ...body, amountMinor: '100' }) },
    { key: account, value: JSON.stringify({ ...body, amountMinor: '999' }) },
  ]);
  await drained();
  assert.equal(await storedCount(id), 1);

  const refused = await fetch(`${base}/conflicts`, { headers: bearer(keys.tokens.reader as string) });
  assert.equal(refused.status, 403);
  await refused.text();
  const { status, body: page } = await get<Page<{ txId: string; fields: string[]; outcome: string; variant: { content: { amountMinor: string } } }>>('/conflicts');
  assert.equal(status, 200);
  const mine = page.items.filter((c) => c.txId === id);
  assert.equal(mine.length, 1, JSON.stringify(page.items));
  assert.deepEqual(mine[0]!.fields, ['amountMinor']);
  assert.equal(mine[0]!.outcome, 'arrived_later');
  assert.equal(mine[0]!.variant.content.amountMinor, '999');
});
