import { invariant } from './errors';
import { BALANCE_MAX_MINOR } from './money';
import type { RejectionReason } from './rules';
import type { SourcedEvent, TransactionType } from './transaction';

/**
 * The stateful half of the rules, still pure: given the balances locked by the database
 * transaction and the batch's new events in offset order, decide each event and the deltas.
 */
export interface Decision {
  event: SourcedEvent;
  status: 'applied' | 'rejected';
  reason: RejectionReason | null;
}

export interface LedgerOutcome {
  decisions: Decision[];
  /** Balance change per balance key, only for applied events. */
  balanceDeltas: Map<string, bigint>;
  /** Rollup change per (minute, type, currency, status, reason). */
  rollups: Map<string, RollupDelta>;
  /** Per initiating account and day: counts and applied amount (what "top accounts" ranks). */
  accountDays: Map<string, AccountDayDelta>;
}

export interface RollupDelta {
  minute: string;
  type: TransactionType;
  currency: string;
  status: 'applied' | 'rejected';
  reason: string;
  count: number;
  sumMinor: bigint;
}

export interface AccountDayDelta {
  /** DATE literal, 'YYYY-MM-DD'. */
  day: string;
  currency: string;
  account: string;
  count: number;
  rejectedCount: number;
  appliedMinor: bigint;
}

/** A rollup_day row's change: the minute deltas of the same day, summed. */
export interface DayRollupDelta extends Omit<RollupDelta, 'minute'> {
  day: string;
}

export function balanceKey(account: string, currency: string): string {
  return `${account}\u0000${currency}`;
}

export function splitBalanceKey(key: string): { account: string; currency: string } {
  const at = key.indexOf('\u0000');
  return { account: key.slice(0, at), currency: key.slice(at + 1) };
}

/**
 * The batch's own balance keys (the events' accounts, never their counterparties), sorted: the
 * only balance rows a batch locks. Accounts are keyed to one partition, so no two batches of
 * different partitions want the same own row.
 */
export function ownBalanceKeysOf(events: ReadonlyArray<SourcedEvent>): string[] {
  return [...new Set(events.map((e) => balanceKey(e.account, e.currency)))].sort();
}

/** A transfer's credit to a counterparty whose balance row the batch does not hold: stored apart, folded later. */
export interface PendingCredit {
  txId: string;
  account: string;
  currency: string;
  amountMinor: bigint;
}

/**
 * Splits a batch's balance effect: in-place deltas for the keys it holds locked, and one pending
 * credit per applied transfer to any other key. Together they are exactly `balanceDeltas`.
 */
export function splitCredits(outcome: LedgerOutcome, locked: ReadonlySet<string>): { deltas: Map<string, bigint>; credits: PendingCredit[] } {
  const deltas = new Map<string, bigint>();
  for (const [key, delta] of outcome.balanceDeltas) if (locked.has(key)) deltas.set(key, delta);
  const credits: PendingCredit[] = [];
  const pendingByKey = new Map<string, bigint>();
  for (const { event: e, status } of outcome.decisions) {
    if (status !== 'applied' || e.type !== 'transfer' || !e.counterparty) continue;
    const key = balanceKey(e.counterparty, e.currency);
    if (locked.has(key)) continue;
    const amountMinor = BigInt(e.amountMinor);
    credits.push({ txId: e.id, account: e.counterparty, currency: e.currency, amountMinor });
    pendingByKey.set(key, (pendingByKey.get(key) ?? 0n) + amountMinor);
  }
  for (const [key, delta] of outcome.balanceDeltas) {
    if (!locked.has(key)) invariant(pendingByKey.get(key) === delta, 'an unlocked balance key only receives transfer credits', key);
  }
  return { deltas, credits };
}

/** Minute bucket of an ISO instant, as the DATETIME literal the rollup table stores. */
export function minuteOf(isoInstant: string): string {
  return `${isoInstant.slice(0, 10)} ${isoInstant.slice(11, 16)}:00`;
}

/** Day bucket of an ISO instant or of a minute literal ('YYYY-MM-DD …'), as a DATE literal. */
export function dayOf(instantOrMinute: string): string {
  return instantOrMinute.slice(0, 10);
}

/**
 * rollup_day deltas from a batch's rollup_minute deltas, keyed and sorted like the table's primary
 * key (day, type, currency, status, reason): the same rows, so the two grains always agree.
 */
export function dayRollupsOf(minuteRollups: ReadonlyMap<string, RollupDelta>): DayRollupDelta[] {
  const days = new Map<string, DayRollupDelta>();
  for (const r of minuteRollups.values()) {
    const day = dayOf(r.minute);
    const key = `${day}|${r.type}|${r.currency}|${r.status}|${r.reason}`;
    const d = days.get(key) ?? { day, type: r.type, currency: r.currency, status: r.status, reason: r.reason, count: 0, sumMinor: 0n };
    d.count += r.count;
    d.sumMinor += r.sumMinor;
    days.set(key, d);
  }
  return [...days.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, d]) => d);
}

/** Key of an account-day rollup row, in the table's primary-key order (day, currency, account). */
export function accountDayKey(day: string, currency: string, account: string): string {
  return `${day}\u0000${currency}\u0000${account}`;
}

/** A balance key's running balance during a batch and the change the batch made to it. */
interface KeyState {
  balance: bigint;
  delta: bigint;
  moved: boolean;
}

/**
 * Decides the batch's events in order against the balances of the keys it holds (locked row plus
 * pending credits) and gathers the deltas and rollups. A credit or transfer that would take a
 * held receiving balance past BALANCE_MAX_MINOR is rejected (`balance_overflow`); a transfer to
 * an account the batch does not hold is decided by the receiver when it folds the credit
 * (src/activities/fold.ts). Per event it builds one balance key (two for a transfer) and looks each up once; the
 * rollup and account-day rows are gathered per minute and per account and keyed once per row,
 * at the end (~1.85 → ~1.2 µs per event for a 15,000-event batch of the benchmark's traffic, issue 5).
 */
export function decideBatch(
  events: ReadonlyArray<SourcedEvent>,
  statelessRejections: ReadonlyMap<string, RejectionReason>,
  balances: ReadonlyMap<string, bigint>,
  overdraftLimitMinor: bigint,
): LedgerOutcome {
  const keys = new Map<string, KeyState>();
  const stateOf = (key: string): KeyState => {
    let state = keys.get(key);
    if (state === undefined) keys.set(key, (state = { balance: balances.get(key) ?? 0n, delta: 0n, moved: false }));
    return state;
  };
  const move = (state: KeyState, delta: bigint) => {
    state.balance += delta;
    state.delta += delta;
    state.moved = true;
  };
  /** Rollup rows by the instant's minute prefix ('YYYY-MM-DDTHH:MM'), then by a short scan. */
  const byMinute = new Map<string, RollupDelta[]>();
  /** Account-day rows by account, then by a short scan over (day, currency). */
  const byAccount = new Map<string, AccountDayDelta[]>();
  const decisions: Decision[] = [];
  const floor = -overdraftLimitMinor;

  for (const event of events) {
    const amount = BigInt(event.amountMinor);
    invariant(amount > 0n, 'amount must be positive', event.id);
    const { type, currency, account } = event;
    const from = stateOf(balanceKey(account, currency));
    let reason: RejectionReason | null = statelessRejections.size > 0 ? (statelessRejections.get(event.id) ?? null) : null;
    if (reason === null && type !== 'credit' && from.balance - amount < floor) reason = 'insufficient_funds';
    // The balance that receives the money must stay within its column: rejected here, before any
    // write, instead of an out-of-range error that would fail every attempt of the batch.
    const to = type === 'credit' ? from : type === 'transfer' ? stateOf(balanceKey(event.counterparty as string, currency)) : null;
    if (reason === null && to !== null && to.balance + amount > BALANCE_MAX_MINOR) reason = 'balance_overflow';
    if (reason === null) {
      move(from, type === 'credit' ? amount : -amount);
      if (type === 'transfer') move(to as KeyState, amount);
    }
    const status = reason === null ? 'applied' : 'rejected';
    const why = reason ?? '';
    decisions.push({ event, status, reason });

    const minutePrefix = event.occurredAt.slice(0, 16);
    let minuteRows = byMinute.get(minutePrefix);
    if (minuteRows === undefined) byMinute.set(minutePrefix, (minuteRows = []));
    let rollup: RollupDelta | undefined;
    for (const r of minuteRows) {
      if (r.type === type && r.status === status && r.reason === why && r.currency === currency) {
        rollup = r;
        break;
      }
    }
    if (rollup === undefined) minuteRows.push((rollup = { minute: minuteOf(event.occurredAt), type, currency, status, reason: why, count: 0, sumMinor: 0n }));
    rollup.count += 1;
    rollup.sumMinor += amount;

    const day = dayOf(minutePrefix);
    let accountRows = byAccount.get(account);
    if (accountRows === undefined) byAccount.set(account, (accountRows = []));
    let perAccount: AccountDayDelta | undefined;
    for (const r of accountRows) {
      if (r.day === day && r.currency === currency) {
        perAccount = r;
        break;
      }
    }
    if (perAccount === undefined) accountRows.push((perAccount = { day, currency, account, count: 0, rejectedCount: 0, appliedMinor: 0n }));
    perAccount.count += 1;
    if (status === 'rejected') perAccount.rejectedCount += 1;
    else perAccount.appliedMinor += amount;
  }

  const balanceDeltas = new Map<string, bigint>();
  for (const [key, state] of keys) if (state.moved) balanceDeltas.set(key, state.delta);
  const rollups: LedgerOutcome['rollups'] = new Map();
  for (const rows of byMinute.values()) for (const r of rows) rollups.set(`${r.minute}|${r.type}|${r.currency}|${r.status}|${r.reason}`, r);
  const accountDays: LedgerOutcome['accountDays'] = new Map();
  for (const rows of byAccount.values()) for (const r of rows) accountDays.set(accountDayKey(r.day, r.currency, r.account), r);
  return { decisions, balanceDeltas, rollups, accountDays };
}

/** External money in minus money out: transfers must contribute exactly zero (double entry). */
export function netExternalFlow(decisions: ReadonlyArray<Decision>): bigint {
  let net = 0n;
  for (const d of decisions) {
    if (d.status !== 'applied') continue;
    if (d.event.type === 'credit') net += BigInt(d.event.amountMinor);
    if (d.event.type === 'debit') net -= BigInt(d.event.amountMinor);
  }
  return net;
}

/** A pending credit row as the fold sees it. */
export interface FoldCandidate {
  txId: string;
  amountMinor: bigint;
}

/**
 * Which of a held key's pending credits its row absorbs: all of them when the row stays within
 * BALANCE_MAX_MINOR, else those that fit, in tx id order (deterministic). The caller returns the
 * others that are transfers to their sender (src/activities/fold.ts), so the row never leaves its
 * column and the fold never fails. Returns the row's new value and the credits absorbed.
 */
export function foldIntoRow(row: bigint, pending: ReadonlyArray<FoldCandidate>): { value: bigint; folded: FoldCandidate[] } {
  let value = row;
  let total = 0n;
  for (const c of pending) total += c.amountMinor;
  if (value + total <= BALANCE_MAX_MINOR) return { value: value + total, folded: [...pending] };
  const folded: FoldCandidate[] = [];
  for (const c of [...pending].sort((a, b) => (a.txId < b.txId ? -1 : a.txId > b.txId ? 1 : 0))) {
    if (value + c.amountMinor > BALANCE_MAX_MINOR) continue;
    value += c.amountMinor;
    folded.push(c);
  }
  return { value, folded };
}

/** A stored transaction as a supersession reverses it (docs/decisions/021-one-id-one-payment.md). */
export interface StoredEffect {
  account: string;
  counterparty: string | null;
  type: TransactionType;
  amountMinor: string;
  currency: string;
  status: 'applied' | 'rejected';
  reason: string | null;
  occurredAt: string;
}

/**
 * Everything a stored transaction added, negated: its balance effect (none when it was rejected,
 * or when a review already reversed it), its minute/day rollup row and its account-day row. Added
 * to a batch's own deltas, it removes the transaction as if it had never been applied; `external`
 * is the external flow it removes (credits in, debits out), for the batch's double-entry check.
 */
export function reversalOf(stored: StoredEffect, balanceAlreadyReversed: boolean): { balanceDeltas: Map<string, bigint>; rollup: RollupDelta; accountDay: AccountDayDelta; external: bigint } {
  const amount = BigInt(stored.amountMinor);
  const balanceDeltas = new Map<string, bigint>();
  let external = 0n;
  if (stored.status === 'applied' && !balanceAlreadyReversed) {
    const add = (key: string, delta: bigint) => balanceDeltas.set(key, (balanceDeltas.get(key) ?? 0n) + delta);
    add(balanceKey(stored.account, stored.currency), stored.type === 'credit' ? -amount : amount);
    if (stored.type === 'transfer' && stored.counterparty) add(balanceKey(stored.counterparty, stored.currency), -amount);
    if (stored.type === 'credit') external = -amount;
    if (stored.type === 'debit') external = amount;
  }
  const rollup: RollupDelta = { minute: minuteOf(stored.occurredAt), type: stored.type, currency: stored.currency, status: stored.status, reason: stored.reason ?? '', count: -1, sumMinor: -amount };
  const accountDay: AccountDayDelta = {
    day: dayOf(stored.occurredAt),
    currency: stored.currency,
    account: stored.account,
    count: -1,
    rejectedCount: stored.status === 'rejected' ? -1 : 0,
    appliedMinor: stored.status === 'applied' ? -amount : 0n,
  };
  return { balanceDeltas, rollup, accountDay, external };
}

/** Adds rollup and account-day deltas (a supersession's negative ones) into a batch's outcome, row by row. */
export function mergeRollups(outcome: LedgerOutcome, rollups: ReadonlyArray<RollupDelta>, accountDays: ReadonlyArray<AccountDayDelta>): void {
  for (const r of rollups) {
    const key = `${r.minute}|${r.type}|${r.currency}|${r.status}|${r.reason}`;
    const row = outcome.rollups.get(key);
    if (row) {
      row.count += r.count;
      row.sumMinor += r.sumMinor;
    } else outcome.rollups.set(key, { ...r });
  }
  for (const a of accountDays) {
    const key = accountDayKey(a.day, a.currency, a.account);
    const row = outcome.accountDays.get(key);
    if (row) {
      row.count += a.count;
      row.rejectedCount += a.rejectedCount;
      row.appliedMinor += a.appliedMinor;
    } else outcome.accountDays.set(key, { ...a });
  }
}
