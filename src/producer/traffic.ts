import { newTransactionId } from '../domain/ids';
import { createRandom } from '../domain/random';
import type { TransactionEvent } from '../domain/transaction';
import { accountName, createAccountPicker, DAY_MS, populationFor, profileOf, rhythmAt, type Profile } from './population';

/**
 * The producer's traffic: a retail bank's customers paying, being paid and moving money, with a
 * share of labelled fraud mixed in (docs/traffic-model.md). One model for every use: the default
 * traffic of `produce`, the demo and chaos runs stamps events with the wall clock; `fraud eval`,
 * `fraud train` and the benchmark run the same model on a simulated clock, so a whole workload,
 * account history included, follows from the seed. The label never travels in the event.
 */
export const FRAUD_PATTERNS = ['card_testing', 'velocity', 'amount_spike', 'dormant_new_big_out', 'fan_out', 'round_trip'] as const;
export type FraudPattern = (typeof FRAUD_PATTERNS)[number];

export interface TrafficOptions {
  seed: number;
  /** Target share of transactions that are fraud (0..1). */
  fraudRate: number;
  /** Accounts of the bank. Default: as many as the rate needs (populationFor). */
  accounts?: number;
  /** The run's pace, events per second (0 or absent: as fast as possible, timed as NOMINAL_RATE_PER_S). */
  ratePerSec?: number;
  /** `wall` (default): events occur now; `simulated`: at the model's own time from startMs. */
  clock?: 'wall' | 'simulated';
  /** Start of the timeline: a simulated run's first instant; a wall-clock run's start (default now). */
  startMs?: number;
  /** The wall clock (tests replace it). */
  now?: () => number;
  /** Events the run will send: an incident that would not finish within them is not started. */
  count?: number;
  currency?: string;
}

export interface TrafficEvent {
  event: TransactionEvent;
  label: FraudPattern | null;
}

/** The timeline's pace of a run without a rate (a backlog sent as fast as the broker takes it). */
export const NOMINAL_RATE_PER_S = 1_000;
/** A simulated run's default pace and start: 5 events a second from a Monday 00:00 UTC. */
export const SIMULATED_RATE_PER_S = 5;
export const SIMULATED_START_MS = Date.UTC(2026, 0, 5);

/** Incidents per pattern relative to each other: single-transaction patterns are started more often. */
const PATTERN_WEIGHTS: Record<FraudPattern, number> = { card_testing: 1, velocity: 1, amount_spike: 3, dormant_new_big_out: 3, fan_out: 1.2, round_trip: 2 };
const MEAN_LABELLED: Record<FraudPattern, number> = { card_testing: 16, velocity: 18, amount_spike: 1, dormant_new_big_out: 1, fan_out: 11, round_trip: 3 };
/** Accounts silent for months before a simulated run starts (a wall-clock run has no such past). */
const DORMANT_POOL = 400;
/** The largest amount spike (500,000.00): far above any normal payment, below the default maxAmountMinor. */
const SPIKE_MAX_MINOR = 50_000_000;
/** Accounts an amount spike can hit: ones with at least this many payments in the run so far. */
const SPIKE_MIN_HISTORY = 5;

/**
 * Normal kinds of transaction and their share, with the UTC hours in which each is more (or
 * less) common than the bank's overall rhythm: coffee in the morning, salaries and rent paid in
 * the banks' morning runs, transfers in waking hours. The rhythm of all traffic is rhythmAt.
 */
const KINDS = ['coffee', 'card', 'large', 'topup', 'salary', 'payee', 'rent', 'other'] as const;
type Kind = (typeof KINDS)[number];
const KIND_SHARE: Record<Kind, number> = { coffee: 0.03, card: 0.578, large: 0.002, topup: 0.08, salary: 0.05, payee: 0.2, rent: 0.02, other: 0.04 };
function kindHourFactor(kind: Kind, hour: number): number {
  const morning = hour >= 6 && hour <= 10;
  const waking = hour >= 8 && hour <= 21;
  if (kind === 'coffee') return morning ? 2.5 : hour >= 11 && hour <= 17 ? 1 : 0.3;
  if (kind === 'salary' || kind === 'rent') return hour >= 5 && hour <= 10 ? 3 : 0.4;
  if (kind === 'payee' || kind === 'other') return waking ? 1.2 : 0.5;
  if (kind === 'large') return hour >= 9 && hour <= 20 ? 1.5 : 0.3;
  return 1;
}
/** Cumulative kind shares per UTC hour. */
const KIND_TABLE: ReadonlyArray<Float64Array> = Array.from({ length: 24 }, (_, hour) => {
  const weights = KINDS.map((k) => KIND_SHARE[k] * kindHourFactor(k, hour));
  const total = weights.reduce((s, w) => s + w, 0);
  const out = new Float64Array(KINDS.length);
  let sum = 0;
  weights.forEach((w, i) => (out[i] = sum += w / total));
  return out;
});

/** Outgoing payments per account seen in this run (direct-mapped, bounded: a long run never grows it). */
const SEEN_SLOTS = 1 << 17;
const PROFILE_SLOTS = 1 << 13;

/** The resolved population of a run with these options (what createTraffic will use). */
export function trafficPopulation(options: Pick<TrafficOptions, 'accounts' | 'ratePerSec' | 'clock' | 'startMs' | 'now'>): number {
  if (options.accounts !== undefined && options.accounts > 0) return Math.floor(options.accounts);
  if (options.clock === 'simulated') return populationFor(options.ratePerSec || SIMULATED_RATE_PER_S, DAY_MS / 2);
  return populationFor(options.ratePerSec || NOMINAL_RATE_PER_S, options.startMs ?? (options.now ?? Date.now)());
}

export function createTraffic(options: TrafficOptions): () => TrafficEvent {
  const random = createRandom(options.seed);
  const simulated = options.clock === 'simulated';
  const wallNow = options.now ?? Date.now;
  const rate = options.ratePerSec || (simulated ? SIMULATED_RATE_PER_S : NOMINAL_RATE_PER_S);
  const startMs = options.startMs ?? (simulated ? SIMULATED_START_MS : wallNow());
  const currency = options.currency ?? 'EUR';
  const n = trafficPopulation({ ...options, startMs });
  const total = options.count !== undefined && options.count > 0 ? options.count : Number.POSITIVE_INFINITY;
  const pickAccount = createAccountPicker(n, random);
  const int = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
  const between = (lo: number, hi: number) => lo + random() * (hi - lo);
  const logUniform = (lo: number, hi: number) => Math.round(Math.exp(Math.log(lo) + random() * (Math.log(hi) - Math.log(lo))));
  const gaussian = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const other = (not: number) => {
    const x = Math.floor(random() * n);
    return x === not ? (x + 1) % n : x;
  };

  // Profiles are derived, not stored: a small direct-mapped cache keeps the busiest accounts' at hand.
  const profileCache: Array<Profile | undefined> = new Array(PROFILE_SLOTS);
  const profileIndex = new Int32Array(PROFILE_SLOTS).fill(-1);
  const profile = (index: number): Profile => {
    const slot = index % PROFILE_SLOTS;
    if (profileIndex[slot] === index) return profileCache[slot] as Profile;
    const p = profileOf(options.seed, n, index);
    profileIndex[slot] = index;
    profileCache[slot] = p;
    return p;
  };

  const seenIndex = new Int32Array(SEEN_SLOTS).fill(-1);
  const seenOut = new Int32Array(SEEN_SLOTS);
  const seenMax = new Float64Array(SEEN_SLOTS);
  /** Recent accounts with a payment history an amount spike can stand out from. */
  const experienced: number[] = [];
  let experiencedNext = 0;
  const noteOutgoing = (index: number, amount: number) => {
    const slot = index % SEEN_SLOTS;
    if (seenIndex[slot] !== index) {
      seenIndex[slot] = index;
      seenOut[slot] = 0;
      seenMax[slot] = 0;
    }
    seenOut[slot] = (seenOut[slot] as number) + 1;
    seenMax[slot] = Math.max(seenMax[slot] as number, amount);
    if (seenOut[slot] === SPIKE_MIN_HISTORY) {
      if (experienced.length < 4096) experienced.push(index);
      else experienced[experiencedNext++ % 4096] = index;
    }
  };
  const largestPayment = (index: number) => (seenIndex[index % SEEN_SLOTS] === index ? (seenMax[index % SEEN_SLOTS] as number) : 0);

  // The timeline: model time of the current position. A simulated clock follows the daily rhythm
  // (quiet nights); a wall-clock run is paced evenly by the producer, so its model time is too.
  let position = 0;
  let modelMs = startMs;
  const stepMs = () => (simulated ? 1000 / (rate * rhythmAt(modelMs)) : 1000 / rate);

  const pending: Array<{ at: number; make: () => TrafficEvent }> = [];
  const schedule = (at: number, make: () => TrafficEvent) => {
    let i = pending.length;
    while (i > 0 && (pending[i - 1] as { at: number }).at > at) i--;
    pending.splice(i, 0, { at, make });
  };
  const occurredAt = (at?: number) => new Date(at ?? (simulated ? modelMs : wallNow())).toISOString();
  const make = (account: string, type: TransactionEvent['type'], amount: number, description: string, counterparty?: string, at?: number): TransactionEvent => {
    const amountMinor = String(Math.max(1, Math.round(amount)));
    // Literals in one key order, not spreads: a spread costs about a microsecond per event.
    if (counterparty === undefined) return { id: newTransactionId(), account, type, amountMinor, currency, occurredAt: occurredAt(at), description };
    return { id: newTransactionId(), account, type, amountMinor, currency, occurredAt: occurredAt(at), description, counterparty };
  };

  /** The account index of the event being built (-1: an account outside the population). */
  let eventIndex = -1;
  const normal = (): TrafficEvent => {
    const index = pickAccount();
    eventIndex = index;
    const account = accountName(index);
    const table = KIND_TABLE[Math.floor((((modelMs % DAY_MS) + DAY_MS) % DAY_MS) / 3_600_000)] as Float64Array;
    const roll = random();
    let k = 0;
    while (k < KINDS.length - 1 && (table[k] as number) <= roll) k++;
    let event: TransactionEvent;
    switch (KINDS[k] as Kind) {
      case 'coffee':
        event = make(account, 'debit', logUniform(80, 400), 'coffee');
        break;
      case 'card':
        event = make(account, 'debit', Math.max(50, profile(index).spendScale * Math.exp(0.8 * gaussian())), 'card payment');
        break;
      case 'large':
        event = make(account, 'debit', profile(index).spendScale * (4 + random() * 8), 'large purchase');
        break;
      case 'topup':
        event = make(account, 'credit', logUniform(1_000, 50_000), 'top-up');
        break;
      case 'salary':
        event = make(account, 'credit', profile(index).salary * (0.98 + random() * 0.04), 'salary');
        break;
      case 'payee': {
        const p = profile(index);
        event = p.payees.length > 0
          ? make(account, 'transfer', p.spendScale * (0.5 + random() * 9.5), 'transfer', accountName(p.payees[Math.floor(random() * p.payees.length)] as number))
          : make(account, 'debit', p.spendScale, 'card payment');
        break;
      }
      case 'rent': {
        const p = profile(index);
        event = p.landlord !== index ? make(account, 'transfer', p.rent, 'rent', accountName(p.landlord)) : make(account, 'debit', p.spendScale, 'card payment');
        break;
      }
      default:
        event = make(account, 'transfer', profile(index).spendScale * (0.5 + random() * 8), 'transfer', accountName(other(index)));
    }
    return { event, label: null };
  };

  let nextDormant = 0;
  let nextFresh = 0;
  /** Plans `count` events from now, gapLo..gapHi seconds apart; returns when the last one is due. */
  const burst = (count: number, gapLoS: number, gapHiS: number, build: () => TrafficEvent): Array<[number, () => TrafficEvent]> => {
    const plan: Array<[number, () => TrafficEvent]> = [];
    let at = modelMs;
    for (let i = 0; i < count; i++) {
      plan.push([at, build]);
      at += between(gapLoS, gapHiS) * 1000;
    }
    return plan;
  };
  const payment = (index: number, label: FraudPattern, type: TransactionEvent['type'], amount: () => number, to?: () => number) => () =>
    ({ event: make(accountName(index), type, amount(), type === 'transfer' ? 'transfer' : 'card payment', to ? accountName(to()) : undefined), label });


  /** Each pattern's plan: [model time, event] pairs, or null when it cannot happen now. */
  const incident: Record<FraudPattern, () => Array<[number, () => TrafficEvent]> | null> = {
    card_testing: () => {
      const index = Math.floor(random() * n);
      return burst(int(12, 20), 0.3, 1.5, payment(index, 'card_testing', 'debit', () => int(50, 199)));
    },
    velocity: () => {
      const index = Math.floor(random() * n);
      const scale = profile(index).spendScale;
      return burst(int(14, 22), 0.5, 2, payment(index, 'velocity', 'debit', () => Math.max(200, scale * Math.exp(0.6 * gaussian()))));
    },
    amount_spike: () => {
      if (experienced.length === 0) return null;
      const index = experienced[Math.floor(random() * experienced.length)] as number;
      // Far above this account's own history: a multiple of its usual spend and of its largest payment.
      // Capped: each spike is set above the last one on the same account, so without a ceiling a
      // popular account's spikes would compound past BIGINT within a million events.
      const amount = Math.min(SPIKE_MAX_MINOR, Math.max(100_000, profile(index).spendScale * (50 + random() * 50), largestPayment(index) * (3 + random() * 2)));
      const type = random() < 0.5 ? 'debit' : 'transfer';
      return [[modelMs, payment(index, 'amount_spike', type, () => amount, type === 'transfer' ? () => other(index) : undefined)]];
    },
    dormant_new_big_out: () => {
      const target = accountName(other(-1));
      if (simulated && random() < 0.5 && nextDormant < DORMANT_POOL) {
        const account = accountName(n + nextDormant++);
        const amount = logUniform(200_000, 900_000);
        return [[modelMs, () => ({ event: make(account, 'transfer', amount, 'transfer', target), label: 'dormant_new_big_out' })]];
      }
      // A mule account: opened, funded, and emptied to another account within half a minute.
      const account = `new-${options.seed}-${nextFresh++}`;
      const funds = logUniform(300_000, 1_000_000);
      const drainAt = modelMs + between(5, 30) * 1000;
      return [
        [modelMs, () => ({ event: make(account, 'credit', funds, 'deposit'), label: null })],
        [drainAt, () => ({ event: make(account, 'transfer', funds * (0.8 + random() * 0.15), 'transfer', target), label: 'dormant_new_big_out' })],
      ];
    },
    fan_out: () => {
      const index = Math.floor(random() * n);
      return burst(int(8, 14), 0.5, 3, payment(index, 'fan_out', 'transfer', () => logUniform(5_000, 50_000), () => other(index)));
    },
    round_trip: () => {
      const a = Math.floor(random() * n);
      const b = other(a);
      let c = other(b);
      if (c === a) c = other(a) === b ? (b + 1) % n : other(a);
      let amount = logUniform(100_000, 400_000);
      const plan: Array<[number, () => TrafficEvent]> = [];
      let at = modelMs;
      for (const [from, to] of [[a, b], [b, c], [c, a]] as Array<[number, number]>) {
        const legAmount = amount;
        plan.push([at, () => ({ event: make(accountName(from), 'transfer', legAmount, 'transfer', accountName(to)), label: 'round_trip' })]);
        amount = amount * (0.97 + random() * 0.02);
        at += between(3, 20) * 1000;
      }
      return plan;
    },
  };

  if (simulated) {
    // Dormant accounts' last activity lies months before the run starts: funded, then silent.
    for (let i = 0; i < DORMANT_POOL; i++) {
      const at = startMs - (40 + random() * 160) * DAY_MS;
      const account = accountName(n + i);
      const funds = logUniform(300_000, 2_000_000);
      schedule(startMs + i * 3 * stepMs(), () => ({ event: make(account, 'credit', funds, 'salary', undefined, at), label: null }));
    }
  }

  const weightOf = (eligible: ReadonlyArray<FraudPattern>) => eligible.reduce((s, p) => s + PATTERN_WEIGHTS[p], 0);
  const meanLabelledOf = (eligible: ReadonlyArray<FraudPattern>) => eligible.reduce((s, p) => s + PATTERN_WEIGHTS[p] * MEAN_LABELLED[p], 0) / weightOf(eligible);
  const all = FRAUD_PATTERNS;
  const noSpike = FRAUD_PATTERNS.filter((p) => p !== 'amount_spike');
  const probabilityAll = options.fraudRate / meanLabelledOf(all);
  const probabilityNoSpike = options.fraudRate / meanLabelledOf(noSpike);

  const startIncident = () => {
    // Until some account has a history to stand out from, spikes are left out of the draw and the
    // incident rate follows the other patterns' sizes, so the fraud share stays the configured one.
    const eligible = experienced.length > 0 ? all : noSpike;
    if (random() >= (eligible === all ? probabilityAll : probabilityNoSpike)) return;
    let pick = random() * weightOf(eligible);
    let pattern: FraudPattern = eligible[0] as FraudPattern;
    for (const p of eligible) {
      pattern = p;
      pick -= PATTERN_WEIGHTS[p];
      if (pick < 0) break;
    }
    const plan = incident[pattern]();
    if (!plan) return;
    // A bounded run cuts no incident short (half a burst is neither fraud the detector could see
    // nor a fair test of it): one that would outlast the run happens faster, within what is left;
    // one that cannot fit even so is not started.
    const spanMs = Math.max(...plan.map(([at]) => at)) - modelMs;
    const leftMs = ((total - position - 2 * plan.length) * 1000) / (rate * (simulated ? rhythmAt(modelMs) : 1));
    if (leftMs <= 0) return;
    // Squeezed into a random part of what is left, not all of it: they would all end on the last events.
    const scale = spanMs > leftMs ? (leftMs * between(0.3, 0.9)) / spanMs : 1;
    for (const [at, build] of plan) schedule(modelMs + (at - modelMs) * scale, build);
  };

  return () => {
    startIncident();
    const due = pending.length > 0 && (pending[0] as { at: number }).at <= modelMs ? pending.shift() : undefined;
    eventIndex = -1;
    const out = due ? due.make() : normal();
    const { event } = out;
    // Only normal payments make a history a spike can stand out from: an account whose history is
    // a fraud burst is no test of the spike rule.
    if (eventIndex >= 0 && event.type !== 'credit') noteOutgoing(eventIndex, Number(event.amountMinor));
    position += 1;
    modelMs += stepMs();
    return out;
  };
}
