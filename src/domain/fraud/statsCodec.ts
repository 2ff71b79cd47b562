import { invariant } from '../errors';
import type { AccountStats } from './stats';

/**
 * The stored form of an account's statistics: a fixed binary layout (about 200 bytes with an empty
 * burst ring) instead of JSON text. Numbers are IEEE doubles, so the state read back is exactly the
 * state written (the JSON form rounded scores to 7 digits); null times are NaN.
 *
 *   u8 version | 16 × f64 (NUMBER_FIELDS) | 64-byte counterparty bitmap | u8 n | n × (u8 len, id, f64 at, u8 kind)
 */
export const STATS_CODEC_VERSION = 1;

const NUMBER_FIELDS = [
  'firstSeenMs', 'lastSeenMs', 'lastOutMs', 'txCount', 'outCount', 'ewmaLogAmount', 'ewmaLogVar', 'ewmaAmount',
  'maxOutAmount', 'ewmaGapS', 'outShort', 'outLong', 'tinyShort', 'newCounterpartyShort', 'decayedAtMs', 'counterpartyCount',
] as const satisfies ReadonlyArray<keyof AccountStats>;

const BITMAP_BYTES = 64;
const HEADER_BYTES = 1 + NUMBER_FIELDS.length * 8 + BITMAP_BYTES + 1;
/** Longest transaction id kept in the ring (ids are CHAR(36) in the database). */
const RECENT_ID_MAX = 64;
/** Upper bound of an encoded row (8 ring entries of the longest id): the column is sized from it. */
export const STATS_ENCODED_MAX_BYTES = HEADER_BYTES + 8 * (1 + RECENT_ID_MAX + 8 + 1);

export function encodeStats(stats: AccountStats): Buffer {
  const recent = stats.recent ?? [];
  let size = HEADER_BYTES;
  for (const [id] of recent) size += 1 + id.length + 9;
  // Buffer's own number writers, no DataView per row: this runs for every account of every batch.
  const out = Buffer.allocUnsafe(size);
  out[0] = STATS_CODEC_VERSION;
  let at = 1;
  for (const field of NUMBER_FIELDS) {
    const v = stats[field] as number | null;
    at = out.writeDoubleLE(v === null ? Number.NaN : v, at);
  }
  invariant(stats.counterpartyBits.length === BITMAP_BYTES * 2, 'counterparty bitmap is 512 bits', stats.account);
  at += out.write(stats.counterpartyBits, at, BITMAP_BYTES, 'hex');
  out[at++] = recent.length;
  for (const [id, atMs, kind] of recent) {
    invariant(id.length <= RECENT_ID_MAX, 'recent id fits the ring', id);
    out[at++] = id.length;
    at += out.write(id, at, 'latin1');
    at = out.writeDoubleLE(atMs, at);
    out[at++] = kind;
  }
  return out;
}

const nullable = (v: number): number | null => (Number.isNaN(v) ? null : v);

export function decodeStats(account: string, bytes: Uint8Array): AccountStats {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  invariant(buf.length >= HEADER_BYTES && buf[0] === STATS_CODEC_VERSION, 'account_stats.stats has a known layout', account);
  const f = (i: number) => buf.readDoubleLE(1 + i * 8);
  let at = 1 + NUMBER_FIELDS.length * 8;
  const counterpartyBits = buf.toString('hex', at, at + BITMAP_BYTES);
  at += BITMAP_BYTES;
  const n = buf[at++] as number;
  const recent: Array<[string, number, number]> = [];
  for (let i = 0; i < n; i++) {
    const len = buf[at++] as number;
    const id = buf.toString('latin1', at, at + len);
    at += len;
    recent.push([id, buf.readDoubleLE(at), buf[at + 8] as number]);
    at += 9;
  }
  // Field i is NUMBER_FIELDS[i]: an object literal in AccountStats' shape, without a per-field lookup.
  return {
    account,
    firstSeenMs: nullable(f(0)),
    lastSeenMs: nullable(f(1)),
    lastOutMs: nullable(f(2)),
    txCount: f(3),
    outCount: f(4),
    ewmaLogAmount: f(5),
    ewmaLogVar: f(6),
    ewmaAmount: f(7),
    maxOutAmount: f(8),
    ewmaGapS: f(9),
    outShort: f(10),
    outLong: f(11),
    tinyShort: f(12),
    newCounterpartyShort: f(13),
    decayedAtMs: nullable(f(14)),
    counterpartyCount: f(15),
    counterpartyBits,
    recent,
  };
}

/**
 * The statistics a worker last wrote or read per account, with their stored bytes: a row read
 * back with exactly those bytes is the same state (decoding is a pure function of the bytes and
 * the account), so it is not decoded again. The row is still read, locked and compared every
 * time: the store stays the source of truth, and a row another worker wrote, a replay or a rolled
 * back attempt simply misses. Statistics objects are never mutated (updates copy), so handing the
 * remembered one out again is safe. Bounded: the oldest entries go first.
 */
export class StatsMemo {
  private readonly entries = new Map<string, { bytes: Buffer; stats: AccountStats }>();

  constructor(private readonly max: number) {}

  get size(): number {
    return this.entries.size;
  }

  decode(account: string, bytes: Buffer): AccountStats {
    const hit = this.entries.get(account);
    if (hit && hit.bytes.equals(bytes)) return hit.stats;
    const stats = decodeStats(account, bytes);
    // A copy: the driver's buffer may be a view of a whole result packet.
    this.remember(stats, Buffer.from(bytes));
    return stats;
  }

  remember(stats: AccountStats, bytes: Buffer): void {
    this.entries.delete(stats.account);
    this.entries.set(stats.account, { bytes, stats });
    if (this.entries.size > this.max) this.entries.delete(this.entries.keys().next().value as string);
  }
}
