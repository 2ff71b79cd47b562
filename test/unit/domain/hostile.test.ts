import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createHostileGenerator, createHostileRequestGenerator, paddedEvent, plainCredit, type FuzzMessage } from '../../../src/domain/hostile';
import { createRandom } from '../../../src/domain/random';
import { checkStatelessRules } from '../../../src/domain/rules';
import { EVENT_SIZE_MAX_BYTES, parseEvent, transactionBodySchema } from '../../../src/domain/transaction';

/**
 * The fuzzer's own contract: deterministic per seed, and every message's promised outcome is what
 * the parser and the stateless rules actually decide (so the integration test's expectations hold).
 */
const rules = { maxAmountMinor: '100000000', currencies: ['EUR', 'USD', 'GBP'] };
const SEED = Number(process.env.LF_FUZZ_SEED ?? 20261125);

function generate(seed: number, count: number): FuzzMessage[] {
  const gen = createHostileGenerator({ seed, hostileRatio: 0.6, rules });
  return Array.from({ length: count }, () => gen.next());
}

test('the same seed yields the same messages; another seed other ones', () => {
  const fingerprint = (ms: FuzzMessage[]) => ms.map((m) => `${m.kind}|${String(m.key)}|${m.value?.toString('base64') ?? 'null'}`).join('\n');
  assert.equal(fingerprint(generate(SEED, 2_000)), fingerprint(generate(SEED, 2_000)));
  assert.notEqual(fingerprint(generate(SEED, 2_000)), fingerprint(generate(SEED + 1, 2_000)));
});

test(`every promised outcome is what parseEvent and the rules decide (seed ${SEED}, 20,000 messages)`, () => {
  const messages = generate(SEED, 20_000);
  const firstSeen = new Map<string, FuzzMessage>();
  const kinds = new Map<string, number>();
  for (const m of messages) {
    kinds.set(m.kind, (kinds.get(m.kind) ?? 0) + 1);
    const parsed = parseEvent(m.value);
    const where = `seq ${m.seq} (${m.kind}): ${m.value?.subarray(0, 120).toString('utf8')}`;
    if (m.expect.outcome === 'dlq') {
      assert.equal(parsed.ok, false, `expected malformed: ${where}`);
      if (!parsed.ok) assert.match(parsed.reason, /\S/, where);
      continue;
    }
    assert.ok(parsed.ok, `expected well-formed: ${where} → ${parsed.ok ? '' : parsed.reason}`);
    assert.deepEqual(parsed.event, m.expect.event, where);
    assert.equal(String(m.key), m.expect.event.account, `well-formed events are keyed by account: ${where}`);
    const reason = checkStatelessRules(parsed.event, rules);
    if (m.expect.outcome === 'rejected') assert.equal(reason, m.expect.reason, where);
    if (m.expect.outcome === 'stored') assert.equal(reason, null, where);
    if (m.expect.outcome === 'duplicate') {
      const first = firstSeen.get(m.expect.event.id);
      assert.ok(first, `a duplicate follows its first occurrence: ${where}`);
      assert.notEqual(first.expect.outcome === 'dlq' ? '' : first.expect.event.amountMinor, m.expect.event.amountMinor, 'other content');
      assert.equal(String(first.key), String(m.key), 'same key, so the same partition');
    } else {
      assert.ok(!firstSeen.has(m.expect.event.id), `fresh ids are unique: ${where}`);
      firstSeen.set(m.expect.event.id, m);
    }
  }
  const hostile = messages.filter((m) => m.kind !== 'valid').length;
  assert.ok(hostile > 11_000 && hostile < 13_000, `about 60% hostile, got ${hostile}`);
  for (const kind of ['invalid_json', 'wrong_type', 'huge', 'bad_amount', 'unknown_enum', 'missing_key', 'extra_key', 'sql_in_field', 'invalid_utf8', 'null_byte', 'deep_nesting', 'empty_message', 'tombstone', 'homoglyph_account', 'occurred_out_of_range', 'bad_id', 'over_limit', 'unsupported_currency', 'self_transfer', 'sql_in_description', 'odd_description', 'boundary', 'duplicate_other_content']) {
    assert.ok((kinds.get(kind) ?? 0) >= 20, `kind ${kind} appears often enough (${kinds.get(kind) ?? 0})`);
  }
});

test('padded events have the exact size and are refused for it; plain credits are valid', () => {
  const e = plainCredit(1, 1, 'fz-acc-0001');
  assert.equal(parseEvent(Buffer.from(JSON.stringify(e))).ok, true);
  for (const size of [EVENT_SIZE_MAX_BYTES + 1, 900 * 1024]) {
    const bytes = paddedEvent(e, size);
    assert.equal(bytes.length, size);
    const parsed = parseEvent(bytes);
    assert.ok(!parsed.ok && /exceeds/.test(parsed.reason));
  }
});

test('parseEvent never throws on random bytes and always says why', () => {
  const random = createRandom(SEED);
  for (let i = 0; i < 20_000; i++) {
    const bytes = Buffer.from(Array.from({ length: Math.floor(random() * 64) }, () => Math.floor(random() * 256)));
    const parsed = parseEvent(bytes);
    assert.equal(parsed.ok, false);
    if (!parsed.ok) assert.match(parsed.reason, /\S/);
  }
});

test('every hostile HTTP request breaks at least one ingest rule', () => {
  const next = createHostileRequestGenerator({ seed: SEED, ingestBatchMax: 1000, bodyLimitBytes: 4 << 20 });
  for (let i = 0; i < 3_000; i++) {
    const r = next();
    // HTTP drops leading and trailing whitespace of a header value: check what the server will see.
    const key = r.headers['idempotency-key']?.trim();
    if (key === undefined || !/^[\x21-\x7e]{8,200}$/.test(key) || r.headers['content-type'] !== 'application/json' || typeof r.body !== 'string') continue;
    let body: unknown;
    try {
      body = JSON.parse(r.body);
    } catch {
      continue;
    }
    const items = Array.isArray(body) ? body : [body];
    const refused = items.length === 0 || items.length > 1000
      || items.some((item) => (typeof item === 'object' && item !== null && 'id' in item) || !transactionBodySchema.safeParse(item).success);
    assert.ok(refused, `${r.kind}: would be accepted: ${r.body.slice(0, 200)}`);
  }
});

// Found by the fuzzer (the parser used to accept these).
test('an impossible calendar date is refused, not rolled over (2026-02-30 → 2026-03-02)', () => {
  const e = plainCredit(1, 1, 'fz-acc-0001');
  assert.equal(parseEvent(Buffer.from(JSON.stringify({ ...e, occurredAt: '2026-02-30T08:00:00Z' }))).ok, false);
  assert.equal(parseEvent(Buffer.from(JSON.stringify({ ...e, occurredAt: '2026-02-28T24:00:00Z' }))).ok, false);
});

test('the last day of every month of every accepted year is accepted, the day after it refused (leap years by the calendar)', () => {
  const e = plainCredit(1, 1, 'fz-acc-0001');
  const at = (y: number, m: number, d: number) => `${y}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}T12:00:00Z`;
  for (let year = 2000; year < 2100; year++) {
    for (let month = 1; month <= 12; month++) {
      const last = new Date(Date.UTC(year, month, 0)).getUTCDate();
      assert.equal(parseEvent(Buffer.from(JSON.stringify({ ...e, occurredAt: at(year, month, last) }))).ok, true, at(year, month, last));
      assert.equal(parseEvent(Buffer.from(JSON.stringify({ ...e, occurredAt: at(year, month, last + 1) }))).ok, false, at(year, month, last + 1));
    }
  }
});

test('a description with a lone UTF-16 surrogate is refused, not stored altered (as U+FFFD)', () => {
  const e = plainCredit(1, 1, 'fz-acc-0001');
  const text = JSON.stringify({ ...e, description: 'x' }).replace('"x"', '"a\\ud800b"');
  assert.equal(parseEvent(Buffer.from(text)).ok, false);
});
