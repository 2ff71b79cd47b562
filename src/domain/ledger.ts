import { invariant } from './errors';
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
  const [account, currency] = key.split('\u0000');
  return { account: account as string, currency: currency as string };
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

export function decideBatch(
  events: ReadonlyArray<SourcedEvent>,
  statelessRejections: ReadonlyMap<string, RejectionReason>,
  balances: ReadonlyMap<string, bigint>,
  overdraftLimitMinor: bigint,
): LedgerOutcome {
  const current = new Map(balances);
  const balanceDeltas = new Map<string, bigint>();
  const rollups: LedgerOutcome['rollups'] = new Map();
  const accountDays: LedgerOutcome['accountDays'] = new Map();
  const decisions: Decision[] = [];
  const move = (key: string, delta: bigint) => {
    current.set(key, (current.get(key) ?? 0n) + delta);
    balanceDeltas.set(key, (balanceDeltas.get(key) ?? 0n) + delta);
  };

  for (const event of events) {
    const amount = BigInt(event.amountMinor);
    invariant(amount > 0n, 'amount must be positive', event.id);
    const from = balanceKey(event.account, event.currency);
    let reason: RejectionReason | null = statelessRejections.get(event.id) ?? null;
    if (reason === null && event.type !== 'credit' && (current.get(from) ?? 0n) - amount < -overdraftLimitMinor) {
      reason = 'insufficient_funds';
    }
    if (reason === null) {
      if (event.type === 'credit') move(from, amount);
      else move(from, -amount);
      if (event.type === 'transfer') move(balanceKey(event.counterparty as string, event.currency), amount);
    }
    const status = reason === null ? 'applied' : 'rejected';
    decisions.push({ event, status, reason });
    const minute = minuteOf(event.occurredAt);
    const rollupKey = `${minute}|${event.type}|${event.currency}|${status}|${reason ?? ''}`;
    const rollup = rollups.get(rollupKey) ?? { minute, type: event.type, currency: event.currency, status, reason: reason ?? '', count: 0, sumMinor: 0n };
    rollup.count += 1;
    rollup.sumMinor += amount;
    rollups.set(rollupKey, rollup);
    const day = dayOf(minute);
    const accountKey = accountDayKey(day, event.currency, event.account);
    const perAccount = accountDays.get(accountKey) ?? { day, currency: event.currency, account: event.account, count: 0, rejectedCount: 0, appliedMinor: 0n };
    perAccount.count += 1;
    if (status === 'rejected') perAccount.rejectedCount += 1;
    else perAccount.appliedMinor += amount;
    accountDays.set(accountKey, perAccount);
  }
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
