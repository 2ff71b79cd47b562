/**
 * Per-account streaming statistics, as a plain state object updated by pure functions. Floats here
 * are SCORES and rates only; money stays a decimal string of minor units everywhere else.
 */
export interface AccountStats {
  account: string;
  firstSeenMs: number | null;
  lastSeenMs: number | null;
  /** Time of the last outgoing transaction (the gap EWMA is measured from it). */
  lastOutMs: number | null;
  txCount: number;
  /** Outgoing = debit or transfer (money leaving the account). */
  outCount: number;
  /** EWMA of ln(outgoing amount) and its variance. */
  ewmaLogAmount: number;
  ewmaLogVar: number;
  /** EWMA of outgoing amount in minor units (a score input, never a ledger value). */
  ewmaAmount: number;
  /** Largest outgoing amount so far (score input). */
  maxOutAmount: number;
  /** EWMA of the gap between outgoing transactions, seconds. */
  ewmaGapS: number;
  /** Exponentially decayed counts (sliding windows without buckets), decayed to decayedAtMs. */
  outShort: number;
  /** Outgoing count decayed over the pace window: the account's usual pace (bursts barely move it). */
  outLong: number;
  tinyShort: number;
  newCounterpartyShort: number;
  decayedAtMs: number | null;
  /** Distinct counterparties paid so far (approximate: counted by the bitmap below). */
  counterpartyCount: number;
  /** 512-bit membership bitmap of paid counterparties, hex. */
  counterpartyBits: string;
  /** The last few outgoing transactions: [id, time ms, kind bits], so a burst flags its first members too. */
  recent: Array<[string, number, number]>;
}

/** Kind bits of a recent entry. */
export const RECENT_OUTGOING = 1;
export const RECENT_TINY_DEBIT = 2;
export const RECENT_NEW_COUNTERPARTY = 4;
const RECENT_MAX = 8;

export interface StatsWindows {
  /** Time constant of the short decayed counts (velocity, card testing). */
  shortWindowS: number;
  /** Time constant of the new-counterparty count (fan-out). */
  fanOutWindowS: number;
  /** Time constant of the long decayed count that gives an account's usual pace. */
  paceWindowS: number;
  /** Weight of the newest value in the EWMAs. */
  ewmaAlpha: number;
  /** Amounts at or below this are "tiny" (card testing). */
  tinyAmountMinor: number;
}

const BITMAP_BITS = 512;

export function emptyStats(account: string): AccountStats {
  return {
    account,
    firstSeenMs: null,
    lastSeenMs: null,
    lastOutMs: null,
    txCount: 0,
    outCount: 0,
    ewmaLogAmount: 0,
    ewmaLogVar: 0,
    ewmaAmount: 0,
    maxOutAmount: 0,
    ewmaGapS: 0,
    outShort: 0,
    outLong: 0,
    tinyShort: 0,
    newCounterpartyShort: 0,
    decayedAtMs: null,
    counterpartyCount: 0,
    counterpartyBits: '0'.repeat(BITMAP_BITS / 4),
    recent: [],
  };
}

/** FNV-1a of the counterparty, two bit positions (a tiny Bloom filter). */
function bitPositions(counterparty: string): [number, number] {
  let h = 0x811c9dc5;
  for (let i = 0; i < counterparty.length; i++) {
    h ^= counterparty.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return [h % BITMAP_BITS, (h >>> 9) % BITMAP_BITS];
}

/** Value of a lowercase hex digit by its char code (what encodeStats and withBit write). */
function nibbleAt(hex: string, i: number): number {
  const c = hex.charCodeAt(i);
  return c <= 57 ? c - 48 : c >= 97 ? c - 87 : c - 55;
}

function bitSet(hex: string, bit: number): boolean {
  return (nibbleAt(hex, bit >> 2) & (1 << (bit & 3))) !== 0;
}

function withBit(hex: string, bit: number): string {
  const i = bit >> 2;
  const nibble = nibbleAt(hex, i) | (1 << (bit & 3));
  return hex.slice(0, i) + nibble.toString(16) + hex.slice(i + 1);
}

export function knowsCounterparty(stats: AccountStats, counterparty: string): boolean {
  const [a, b] = bitPositions(counterparty);
  return bitSet(stats.counterpartyBits, a) && bitSet(stats.counterpartyBits, b);
}

/**
 * A field-by-field copy. Always the same object shape: `{ ...stats, x }` per event made V8 build
 * objects it reads slowly, and this runs for every transaction inside the batch's transaction.
 */
function copyStats(s: AccountStats): AccountStats {
  return {
    account: s.account,
    firstSeenMs: s.firstSeenMs,
    lastSeenMs: s.lastSeenMs,
    lastOutMs: s.lastOutMs,
    txCount: s.txCount,
    outCount: s.outCount,
    ewmaLogAmount: s.ewmaLogAmount,
    ewmaLogVar: s.ewmaLogVar,
    ewmaAmount: s.ewmaAmount,
    maxOutAmount: s.maxOutAmount,
    ewmaGapS: s.ewmaGapS,
    outShort: s.outShort,
    outLong: s.outLong,
    tinyShort: s.tinyShort,
    newCounterpartyShort: s.newCounterpartyShort,
    decayedAtMs: s.decayedAtMs,
    counterpartyCount: s.counterpartyCount,
    counterpartyBits: s.counterpartyBits,
    recent: s.recent,
  };
}

/** The state as the decayed counts would read at `atMs` (no event added). */
export function decayedTo(stats: AccountStats, atMs: number, windows: StatsWindows): AccountStats {
  if (stats.decayedAtMs === null || atMs <= stats.decayedAtMs) return stats;
  const dtS = (atMs - stats.decayedAtMs) / 1000;
  const short = Math.exp(-dtS / windows.shortWindowS);
  const out = copyStats(stats);
  out.outShort = stats.outShort * short;
  out.outLong = (stats.outLong ?? 0) * Math.exp(-dtS / windows.paceWindowS);
  out.tinyShort = stats.tinyShort * short;
  out.newCounterpartyShort = stats.newCounterpartyShort * Math.exp(-dtS / windows.fanOutWindowS);
  out.decayedAtMs = atMs;
  return out;
}

export interface StatsEvent {
  type: 'debit' | 'credit' | 'transfer';
  amountMinor: string;
  counterparty?: string | undefined;
  occurredAtMs: number;
  /** Kept in the recent ring when given. */
  id?: string;
}

/** Folds one transaction of the account into its statistics. */
export function updateStats(previous: AccountStats, e: StatsEvent, windows: StatsWindows): AccountStats {
  const s = decayedTo(previous, e.occurredAtMs, windows);
  const next = copyStats(s);
  next.txCount = s.txCount + 1;
  next.firstSeenMs = s.firstSeenMs === null ? e.occurredAtMs : Math.min(s.firstSeenMs, e.occurredAtMs);
  next.lastSeenMs = s.lastSeenMs === null ? e.occurredAtMs : Math.max(s.lastSeenMs, e.occurredAtMs);
  if (next.decayedAtMs === null) next.decayedAtMs = e.occurredAtMs;
  if (e.type === 'credit') return next;

  const amount = Number(e.amountMinor);
  const logAmount = Math.log(Math.max(1, amount));
  const a = windows.ewmaAlpha;
  if (s.outCount === 0) {
    next.ewmaLogAmount = logAmount;
    next.ewmaLogVar = 0;
    next.ewmaAmount = amount;
  } else {
    const diff = logAmount - s.ewmaLogAmount;
    next.ewmaLogAmount = s.ewmaLogAmount + a * diff;
    next.ewmaLogVar = (1 - a) * (s.ewmaLogVar + a * diff * diff);
    next.ewmaAmount = s.ewmaAmount + a * (amount - s.ewmaAmount);
    const gapS = Math.max(0, (e.occurredAtMs - (s.lastOutMs ?? e.occurredAtMs)) / 1000);
    // The pace learns slowly, so a burst cannot teach the account that bursts are its habit.
    next.ewmaGapS = s.outCount === 1 ? gapS : s.ewmaGapS + (a / 5) * (gapS - s.ewmaGapS);
  }
  next.outCount = s.outCount + 1;
  next.maxOutAmount = Math.max(s.maxOutAmount, amount);
  next.lastOutMs = s.lastOutMs === null ? e.occurredAtMs : Math.max(s.lastOutMs, e.occurredAtMs);
  next.outShort = s.outShort + 1;
  next.outLong = (s.outLong ?? 0) + 1;
  let kind = RECENT_OUTGOING;
  if (e.type === 'debit' && amount <= windows.tinyAmountMinor) {
    next.tinyShort = s.tinyShort + 1;
    kind |= RECENT_TINY_DEBIT;
  }
  if (e.type === 'transfer' && e.counterparty !== undefined && !knowsCounterparty(s, e.counterparty)) {
    const [b1, b2] = bitPositions(e.counterparty);
    next.counterpartyBits = withBit(withBit(s.counterpartyBits, b1), b2);
    next.counterpartyCount = s.counterpartyCount + 1;
    next.newCounterpartyShort = s.newCounterpartyShort + 1;
    kind |= RECENT_NEW_COUNTERPARTY;
  }
  if (e.id !== undefined) {
    // Only members a burst rule could still reach are kept: most accounts carry an empty ring.
    const horizonMs = e.occurredAtMs - Math.max(windows.shortWindowS, windows.fanOutWindowS) * 1000;
    const kept: Array<[string, number, number]> = [];
    for (const member of s.recent ?? []) if (member[1] >= horizonMs) kept.push(member);
    kept.push([e.id, e.occurredAtMs, kind]);
    next.recent = kept.length > RECENT_MAX ? kept.slice(-RECENT_MAX) : kept;
  }
  return next;
}

/** Field order of the JSON form rows had before migration 004 (still read; new rows: statsCodec.ts). */
const STORED_FIELDS = [
  'firstSeenMs', 'lastSeenMs', 'lastOutMs', 'txCount', 'outCount', 'ewmaLogAmount', 'ewmaLogVar', 'ewmaAmount', 'maxOutAmount',
  'ewmaGapS', 'outShort', 'outLong', 'tinyShort', 'newCounterpartyShort', 'decayedAtMs', 'counterpartyCount', 'counterpartyBits', 'recent',
] as const;

/** Scores need no more than 7 significant digits; times and counts stay exact. */
const compact = (v: unknown) => (typeof v === 'number' && !Number.isInteger(v) ? Number(v.toPrecision(7)) : v);

export function serializeStats(stats: AccountStats): string {
  return JSON.stringify(STORED_FIELDS.map((f) => compact(stats[f])));
}

export function parseStats(account: string, text: string): AccountStats {
  const values = JSON.parse(text) as unknown[];
  const out = emptyStats(account) as unknown as Record<string, unknown>;
  STORED_FIELDS.forEach((f, i) => {
    if (values[i] !== undefined) out[f] = values[i];
  });
  return out as unknown as AccountStats;
}
