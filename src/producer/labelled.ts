import { newTransactionId } from '../domain/ids';
import { createRandom, createZipfPicker } from '../domain/random';
import type { TransactionEvent } from '../domain/transaction';
import { accountName } from './generator';

/**
 * A labelled workload: realistic normal traffic (salaries, rent, payees, daily spending, skewed
 * popularity) with six injected fraud patterns. The label never travels in the event; the caller
 * writes it to a side file only the evaluator reads. Event time is simulated (stepMs per event
 * from a fixed start), so the whole workload, account history included, follows from the seed.
 */
export const FRAUD_PATTERNS = ['card_testing', 'velocity', 'amount_spike', 'dormant_new_big_out', 'fan_out', 'round_trip'] as const;
export type FraudPattern = (typeof FRAUD_PATTERNS)[number];

export interface LabelledOptions {
  seed: number;
  accounts: number;
  /** Target share of transactions that are fraud (0..1). */
  fraudRate: number;
  /** Simulated time between consecutive events. */
  stepMs?: number;
  startMs?: number;
  currency?: string;
}

export interface LabelledEvent {
  event: TransactionEvent;
  label: FraudPattern | null;
}

interface Profile {
  spendScale: number;
  payees: number[];
  landlord: number;
  salary: number;
  rent: number;
}

/** Incidents per pattern relative to each other: single-transaction patterns are started more often. */
const PATTERN_WEIGHTS: Record<FraudPattern, number> = { card_testing: 1, velocity: 1, amount_spike: 3, dormant_new_big_out: 3, fan_out: 1.2, round_trip: 2 };
const MEAN_LABELLED: Record<FraudPattern, number> = { card_testing: 16, velocity: 18, amount_spike: 1, dormant_new_big_out: 1, fan_out: 11, round_trip: 3 };
const DORMANT_POOL = 400;
/** The largest amount spike (500,000.00): far above any normal payment, below the default maxAmountMinor. */
const SPIKE_MAX_MINOR = 50_000_000;
const DAY_MS = 86_400_000;

export function createLabelledWorkload(options: LabelledOptions): () => LabelledEvent {
  const random = createRandom(options.seed);
  const stepMs = options.stepMs ?? 200;
  const startMs = options.startMs ?? Date.UTC(2026, 0, 5);
  const currency = options.currency ?? 'EUR';
  const n = options.accounts;
  const pickAccount = createZipfPicker(n, 0.9, random);
  const int = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
  const logUniform = (lo: number, hi: number) => Math.round(Math.exp(Math.log(lo) + random() * (Math.log(hi) - Math.log(lo))));
  const gaussian = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());

  const profiles = new Map<number, Profile>();
  const profileOf = (index: number): Profile => {
    let p = profiles.get(index);
    if (!p) {
      const r = createRandom((options.seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0);
      const pick = () => Math.floor(r() * n);
      p = {
        spendScale: Math.round(Math.exp(Math.log(800) + r() * Math.log(7.5))),
        payees: [pick(), pick(), pick()].filter((x) => x !== index),
        landlord: pick(),
        salary: Math.round(150_000 + r() * 450_000),
        rent: 0,
      };
      p.rent = Math.round(p.spendScale * (6 + r() * 9));
      profiles.set(index, p);
    }
    return p;
  };
  /** What the generator has sent per account: a spike is set far above this account's own history. */
  const outCount = new Map<string, number>();
  const maxOut = new Map<string, number>();

  let position = 0;
  let nextDormant = 0;
  let nextFresh = 0;
  const pending: Array<{ at: number; make: () => LabelledEvent }> = [];
  const schedule = (at: number, make: () => LabelledEvent) => {
    let i = pending.length;
    while (i > 0 && (pending[i - 1] as { at: number }).at > at) i--;
    pending.splice(i, 0, { at, make });
  };
  const now = () => new Date(startMs + position * stepMs).toISOString();
  const make = (account: string, type: TransactionEvent['type'], amount: number, description: string, counterparty?: string, at?: string): TransactionEvent => ({
    id: newTransactionId(),
    account,
    type,
    amountMinor: String(Math.max(1, Math.round(amount))),
    currency,
    occurredAt: at ?? now(),
    description,
    ...(counterparty !== undefined ? { counterparty } : {}),
  });
  const other = (not: number) => {
    const x = Math.floor(random() * n);
    return x === not ? (x + 1) % n : x;
  };

  const normal = (): LabelledEvent => {
    const index = pickAccount();
    const p = profileOf(index);
    const account = accountName(index);
    const roll = random();
    let event: TransactionEvent;
    if (roll < 0.5) {
      const small = random() < 0.06;
      const amount = small ? logUniform(80, 400) : p.spendScale * Math.exp(0.8 * gaussian());
      event = make(account, 'debit', Math.max(50, amount), small ? 'coffee' : 'card payment');
    } else if (roll < 0.58) event = make(account, 'credit', logUniform(1_000, 50_000), 'top-up');
    else if (roll < 0.63) event = make(account, 'credit', p.salary * (0.98 + random() * 0.04), 'salary');
    else if (roll < 0.83 && p.payees.length > 0) {
      event = make(account, 'transfer', p.spendScale * (0.5 + random() * 9.5), 'transfer', accountName(p.payees[Math.floor(random() * p.payees.length)] as number));
    } else if (roll < 0.85 && p.landlord !== index) event = make(account, 'transfer', p.rent, 'rent', accountName(p.landlord));
    else if (roll < 0.89) event = make(account, 'transfer', p.spendScale * (0.5 + random() * 8), 'transfer', accountName(other(index)));
    else if (roll < 0.998) event = make(account, 'debit', p.spendScale * Math.exp(0.8 * gaussian()), 'card payment');
    else event = make(account, 'debit', p.spendScale * (4 + random() * 8), 'large purchase');
    return { event, label: null };
  };

  /** Schedules `count` events from `at`, `gapLo..gapHi` positions apart. */
  const burst = (count: number, gapLo: number, gapHi: number, build: (i: number) => LabelledEvent) => {
    let at = position;
    for (let i = 0; i < count; i++) {
      const k = i;
      schedule(at, () => build(k));
      at += int(gapLo, gapHi);
    }
  };

  const incident: Record<FraudPattern, () => void> = {
    card_testing: () => {
      const account = accountName(Math.floor(random() * n));
      burst(int(12, 20), 2, 8, () => ({ event: make(account, 'debit', int(50, 199), 'card payment'), label: 'card_testing' }));
    },
    velocity: () => {
      const index = Math.floor(random() * n);
      const p = profileOf(index);
      burst(int(14, 22), 3, 12, () => ({ event: make(accountName(index), 'debit', Math.max(200, p.spendScale * Math.exp(0.6 * gaussian())), 'card payment'), label: 'velocity' }));
    },
    amount_spike: () => {
      let index = pickAccount();
      for (let tries = 0; tries < 500 && (outCount.get(accountName(index)) ?? 0) < 5; tries++) index = Math.floor(random() * n);
      // Far above this account's own history: a multiple of its usual spend and of its largest payment.
      // Capped: each spike is set above the last one on the same account, so without a ceiling a
      // popular account's spikes compounded past BIGINT within a million events.
      const amount = Math.min(SPIKE_MAX_MINOR, Math.max(100_000, profileOf(index).spendScale * (50 + random() * 50), (maxOut.get(accountName(index)) ?? 0) * (3 + random() * 2)));
      const type = random() < 0.5 ? 'debit' : 'transfer';
      schedule(position, () => ({ event: make(accountName(index), type, amount, type === 'debit' ? 'card payment' : 'transfer', type === 'transfer' ? accountName(other(index)) : undefined), label: 'amount_spike' }));
    },
    dormant_new_big_out: () => {
      const target = accountName(other(-1));
      if (random() < 0.5 && nextDormant < DORMANT_POOL) {
        const account = accountName(n + nextDormant++);
        schedule(position, () => ({ event: make(account, 'transfer', logUniform(200_000, 900_000), 'transfer', target), label: 'dormant_new_big_out' }));
      } else {
        const account = `new-${options.seed}-${nextFresh++}`;
        const funds = logUniform(300_000, 1_000_000);
        schedule(position, () => ({ event: make(account, 'credit', funds, 'deposit'), label: null }));
        schedule(position + int(20, 200), () => ({ event: make(account, 'transfer', funds * (0.8 + random() * 0.15), 'transfer', target), label: 'dormant_new_big_out' }));
      }
    },
    fan_out: () => {
      const index = Math.floor(random() * n);
      burst(int(8, 14), 5, 30, () => ({ event: make(accountName(index), 'transfer', logUniform(5_000, 50_000), 'transfer', accountName(other(index))), label: 'fan_out' }));
    },
    round_trip: () => {
      const a = Math.floor(random() * n);
      const b = other(a);
      let c = other(b);
      if (c === a) c = other(a) === b ? (b + 1) % n : other(a);
      let amount = logUniform(100_000, 400_000);
      const legs: Array<[number, number]> = [[a, b], [b, c], [c, a]];
      let at = position;
      for (const [from, to] of legs) {
        const legAmount = amount;
        schedule(at, () => ({ event: make(accountName(from), 'transfer', legAmount, 'transfer', accountName(to)), label: 'round_trip' }));
        amount = amount * (0.97 + random() * 0.02);
        at += int(300, 1500);
      }
    },
  };

  // Dormant accounts' last activity lies months before the workload starts: funded, then silent.
  for (let i = 0; i < DORMANT_POOL; i++) {
    const at = new Date(startMs - (40 + random() * 160) * DAY_MS).toISOString();
    const account = accountName(n + i);
    const funds = logUniform(300_000, 2_000_000);
    schedule(i * 3, () => ({ event: make(account, 'credit', funds, 'salary', undefined, at), label: null }));
  }

  const patterns = FRAUD_PATTERNS;
  const totalWeight = patterns.reduce((s, p) => s + PATTERN_WEIGHTS[p], 0);
  const meanLabelled = patterns.reduce((s, p) => s + PATTERN_WEIGHTS[p] * MEAN_LABELLED[p], 0) / totalWeight;
  const incidentProbability = options.fraudRate / meanLabelled;

  return () => {
    if (random() < incidentProbability) {
      let pick = random() * totalWeight;
      let pattern: FraudPattern = patterns[0];
      for (const p of patterns) {
        pattern = p;
        pick -= PATTERN_WEIGHTS[p];
        if (pick < 0) break;
      }
      incident[pattern]();
    }
    const due = pending.length > 0 && (pending[0] as { at: number }).at <= position ? pending.shift() : undefined;
    const out = due ? due.make() : normal();
    position += 1;
    const { event } = out;
    if (event.type !== 'credit') {
      outCount.set(event.account, (outCount.get(event.account) ?? 0) + 1);
      maxOut.set(event.account, Math.max(maxOut.get(event.account) ?? 0, Number(event.amountMinor)));
    }
    return out;
  };
}
