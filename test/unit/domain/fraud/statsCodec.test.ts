import assert from 'node:assert/strict';
import { test } from 'node:test';
import { detectBatch, type DetectEvent } from '../../../../src/domain/fraud/detect';
import { emptyStats, knowsCounterparty, parseStats, serializeStats, updateStats, type AccountStats } from '../../../../src/domain/fraud/stats';
import { decodeStats, encodeStats, StatsMemo, STATS_ENCODED_MAX_BYTES } from '../../../../src/domain/fraud/statsCodec';
import { THRESHOLDS } from './thresholds';

const T0 = Date.UTC(2026, 0, 5, 12);

/** An account after a mix of debits, credits and transfers to new and known counterparties. */
function busyAccount(events: number): AccountStats {
  let s = emptyStats('acc-000042');
  for (let i = 0; i < events; i++) {
    const type = i % 5 === 0 ? 'credit' : i % 3 === 0 ? 'transfer' : 'debit';
    s = updateStats(s, { id: `0190a1b2-c3d4-7e5f-8a9b-${String(i).padStart(12, '0')}`, type, amountMinor: String(150 + ((i * 7919) % 90_000)), counterparty: type === 'transfer' ? `acc-${i % 11}` : undefined, occurredAtMs: T0 + i * 7_000 }, THRESHOLDS);
  }
  return s;
}

test('binary statistics round-trip exactly: every number, the bitmap, the burst ring', () => {
  for (const s of [emptyStats('fresh'), busyAccount(1), busyAccount(40)]) {
    const bytes = encodeStats(s);
    assert.ok(bytes.length <= STATS_ENCODED_MAX_BYTES, `${bytes.length} bytes fit the column`);
    assert.deepEqual(decodeStats(s.account, bytes), s);
  }
  const busy = busyAccount(40);
  assert.ok(busy.recent.length > 0, 'the ring is exercised');
  assert.ok(busy.firstSeenMs !== null && busy.counterpartyCount > 0);
});

test('null times survive as null, not NaN; the account comes from the row key', () => {
  const back = decodeStats('other', encodeStats(emptyStats('fresh')));
  assert.equal(back.account, 'other');
  assert.equal(back.firstSeenMs, null);
  assert.equal(back.lastSeenMs, null);
  assert.equal(back.lastOutMs, null);
  assert.equal(back.decayedAtMs, null);
  assert.equal(back.counterpartyBits, '0'.repeat(128));
});

test('a decoded row reads like the JSON row it replaces (within the JSON form\'s 7 digits)', () => {
  const s = busyAccount(25);
  const fromJson = parseStats(s.account, serializeStats(s));
  const fromBinary = decodeStats(s.account, encodeStats(s));
  assert.deepEqual(fromBinary.recent, fromJson.recent);
  assert.equal(fromBinary.counterpartyBits, fromJson.counterpartyBits);
  for (const key of ['ewmaAmount', 'ewmaLogAmount', 'outShort', 'outLong', 'newCounterpartyShort'] as const) {
    assert.ok(Math.abs(fromBinary[key] - fromJson[key]) <= 1e-6 * Math.max(1, Math.abs(fromBinary[key])), key);
  }
  for (let i = 0; i < 11; i++) assert.equal(knowsCounterparty(fromBinary, `acc-${i}`), knowsCounterparty(s, `acc-${i}`));
});

test('detection over stored-and-reloaded statistics equals detection over the in-memory state', () => {
  const events: DetectEvent[] = Array.from({ length: 30 }, (_, i) => ({
    id: `t${i}`,
    account: `a${i % 3}`,
    type: i % 4 === 0 ? 'transfer' : 'debit',
    amountMinor: String(i % 6 === 5 ? 90 : 1_000 + i * 13),
    occurredAt: new Date(T0 + i * 2_000).toISOString(),
    ...(i % 4 === 0 ? { counterparty: `p${i}` } : {}),
  }));
  const ctx = { thresholds: THRESHOLDS, model: null, nearestFraud: () => null, storedTransfers: [] };
  const first = detectBatch(events.slice(0, 15), new Map(), ctx);
  const inMemory = detectBatch(events.slice(15), first.stats, ctx);
  const reloaded = new Map([...first.stats].map(([account, s]) => [account, decodeStats(account, encodeStats(s))]));
  assert.deepEqual(detectBatch(events.slice(15), reloaded, ctx), inMemory);
});

test('a row written by another layout is refused, not misread', () => {
  const bytes = encodeStats(busyAccount(3));
  bytes[0] = 9;
  assert.throws(() => decodeStats('x', bytes), /known layout/);
  assert.throws(() => decodeStats('x', Buffer.alloc(10)), /known layout/);
});

test('the memo hands back the remembered state only for exactly the bytes it was stored as', () => {
  const memo = new StatsMemo(2);
  const s = busyAccount(12);
  const bytes = encodeStats(s);
  memo.remember(s, bytes);
  assert.equal(memo.decode(s.account, Buffer.from(bytes)), s, 'the same bytes: the remembered object, not decoded again');
  const other = busyAccount(13);
  const otherBytes = encodeStats(other);
  const read = memo.decode(s.account, otherBytes);
  assert.notEqual(read, s, 'a row another writer changed is decoded from its bytes');
  assert.deepEqual(read, decodeStats(s.account, otherBytes));
  otherBytes.fill(0);
  assert.deepEqual(memo.decode(s.account, encodeStats(other)), read, 'the memo keeps its own copy of a row it read');
  memo.remember(emptyStats('b'), encodeStats(emptyStats('b')));
  memo.remember(emptyStats('c'), encodeStats(emptyStats('c')));
  assert.equal(memo.size, 2, 'bounded: the oldest entry went');
});
