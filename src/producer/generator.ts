import { newTransactionId } from '../domain/ids';
import { createRandom, createZipfPicker } from '../domain/random';
import type { TransactionEvent } from '../domain/transaction';

export interface GeneratorOptions {
  accounts: number;
  seed: number;
  /** Share of events that are deliberately malformed (0..1). */
  malformedRatio: number;
  currency?: string;
}

export interface GeneratedMessage {
  /** Partition key: the account, or a fixed key for malformed payloads without one. */
  key: string;
  value: Buffer;
  /** The event when well-formed; absent for a malformed one. */
  event?: TransactionEvent;
  malformedKind?: string;
}

export function accountName(index: number): string {
  return `acc-${String(index + 1).padStart(6, '0')}`;
}

/** Amount in minor units, log-uniform between lo and hi: many small payments, a few large ones. */
function amountBetween(random: () => number, lo: number, hi: number): string {
  const value = Math.exp(Math.log(lo) + random() * (Math.log(hi) - Math.log(lo)));
  return String(Math.max(1, Math.round(value)));
}

const MALFORMED_KINDS: ReadonlyArray<(base: TransactionEvent, random: () => number) => string> = [
  (b) => JSON.stringify(b).slice(0, 20), // truncated JSON
  (b) => JSON.stringify({ ...b, amountMinor: `-${b.amountMinor}` }),
  (b) => JSON.stringify({ ...b, type: 'refund' }),
  (b) => {
    const { account: _dropped, ...rest } = b;
    return JSON.stringify(rest);
  },
  (b) => JSON.stringify({ ...b, amountMinor: '12.50' }),
  (b) => JSON.stringify({ ...b, currency: 'euro' }),
  (b) => JSON.stringify({ ...b, occurredAt: 'yesterday' }),
  (b) => JSON.stringify({ ...b, amountMinor: 1e300 }),
];
export const MALFORMED_KIND_NAMES = [
  'truncated_json',
  'negative_amount',
  'unknown_type',
  'missing_account',
  'fractional_amount',
  'bad_currency',
  'bad_timestamp',
  'overflowing_amount',
];

/** A malformed message made from a well-formed event (one of MALFORMED_KIND_NAMES, drawn from `random`). */
export function malformedOf(event: TransactionEvent, random: () => number): GeneratedMessage {
  const kind = Math.floor(random() * MALFORMED_KINDS.length);
  const value = (MALFORMED_KINDS[kind] as (b: TransactionEvent, r: () => number) => string)(event, random);
  return { key: event.account, value: Buffer.from(value), malformedKind: MALFORMED_KIND_NAMES[kind] as string };
}

/** The well-formed event stream behind both generators; `random` is shared with the caller. */
function eventSource(options: Pick<GeneratorOptions, 'accounts' | 'currency'>, random: () => number, occurredAt: () => string): () => TransactionEvent {
  const pickAccount = createZipfPicker(options.accounts, 1.1, random);
  const currency = options.currency ?? 'EUR';
  // Object literals in the final key order, not spreads of a common base: a spread cost ~1.5 µs
  // per event, a third of the generator's time (docs/decisions/014-cpu-per-event-and-deadlock-safety.md).
  // The JSON text is the same.
  return () => {
    const account = accountName(pickAccount());
    const roll = random();
    const id = newTransactionId();
    const at = occurredAt();
    if (roll < 0.3) {
      const salary = random() < 0.2;
      const amountMinor = salary ? amountBetween(random, 150_000, 600_000) : amountBetween(random, 1_000, 50_000);
      return { id, account, currency, occurredAt: at, type: 'credit', amountMinor, description: salary ? 'salary' : 'top-up' };
    }
    if (roll < 0.8) return { id, account, currency, occurredAt: at, type: 'debit', amountMinor: amountBetween(random, 100, 25_000), description: 'card payment' };
    let counterparty = accountName(Math.floor(random() * options.accounts));
    if (counterparty === account) counterparty = accountName((Math.floor(random() * options.accounts) + 1) % options.accounts);
    return { id, account, currency, occurredAt: at, type: 'transfer', counterparty, amountMinor: amountBetween(random, 500, 100_000), description: 'transfer' };
  };
}

const nowIso = () => new Date().toISOString();

/**
 * The events createGenerator yields with malformedRatio 0 (same seed, same sequence), without
 * encoding them as Kafka values: for bulk loads, which never send them. occurredAt defaults to now.
 */
export function createEventGenerator(options: Omit<GeneratorOptions, 'malformedRatio'> & { occurredAt?: () => string }): () => TransactionEvent {
  const random = createRandom(options.seed);
  const next = eventSource(options, random, options.occurredAt ?? nowIso);
  return () => {
    const event = next();
    random(); // createGenerator's malformed roll: keeps both sequences identical
    return event;
  };
}

/**
 * Realistic synthetic traffic: salaries and top-ups (credit), card spending (debit), transfers
 * between accounts; skewed account popularity. Ids are assigned here, before Kafka.
 */
export function createGenerator(options: GeneratorOptions): () => GeneratedMessage {
  const random = createRandom(options.seed);
  const nextEvent = eventSource(options, random, nowIso);
  return () => {
    const event = nextEvent();
    const account = event.account;
    if (random() < options.malformedRatio) return malformedOf(event, random);
    return { key: account, value: Buffer.from(JSON.stringify(event)), event };
  };
}
