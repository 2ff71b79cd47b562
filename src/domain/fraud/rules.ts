import { knowsCounterparty, type AccountStats, type StatsWindows } from './stats';

/** Every threshold of the rules and the anomaly score; all come from config (fraud.*). */
export interface FraudThresholds extends StatsWindows {
  cardTestingMinCount: number;
  velocityMinCount: number;
  /** Short-window count must also be this multiple of what the account's usual pace predicts. */
  velocityRateMultiple: number;
  spikeMinAmountMinor: number;
  spikeMultiple: number;
  /** The spike must also exceed the account's largest earlier outgoing amount by this factor. */
  spikeOverMaxMultiple: number;
  spikeMinHistory: number;
  bigOutMinAmountMinor: number;
  newAccountMaxAgeS: number;
  dormantMinGapS: number;
  fanOutMinCount: number;
  /** New-counterparty count must also be this multiple of what the account's habit predicts. */
  fanOutRateMultiple: number;
  roundTripWindowS: number;
  /** Only transfers of at least this amount are checked for round trips (layering moves material sums). */
  roundTripMinAmountMinor: number;
  /** Largest relative difference between the amounts of two legs of a round trip. */
  roundTripAmountTolerance: number;
  anomalyThreshold: number;
  knnMinSimilarity: number;
  /** Only embeddings at least this far from normal traffic's centre are matched against fraud. */
  knnMinNorm: number;
}

export const RULES = ['card_testing', 'velocity', 'amount_spike', 'dormant_big_out', 'new_account_big_out', 'fan_out', 'round_trip'] as const;
export type RuleName = (typeof RULES)[number];

export interface RuleHit {
  rule: RuleName;
  reason: string;
}

export interface ScoredEvent {
  type: 'debit' | 'credit' | 'transfer';
  amountMinor: string;
  counterparty?: string | undefined;
  occurredAtMs: number;
}

/**
 * Stateful rules over the account's statistics before (`prev`) and after (`next`) the event.
 * Pure and deterministic: the same sequence always yields the same hits.
 */
export function checkRules(e: ScoredEvent, prev: AccountStats, next: AccountStats, t: FraudThresholds): RuleHit[] {
  const hits: RuleHit[] = [];
  if (e.type === 'credit') return hits;
  const amount = Number(e.amountMinor);
  if (e.type === 'debit' && amount <= t.tinyAmountMinor && next.tinyShort >= t.cardTestingMinCount) {
    hits.push({ rule: 'card_testing', reason: `${next.tinyShort.toFixed(1)} tiny debits in ~${t.shortWindowS}s` });
  }
  const expected = expectedShortCount(prev, t, e.occurredAtMs);
  if (next.outShort >= t.velocityMinCount && next.outShort >= t.velocityRateMultiple * expected) {
    hits.push({ rule: 'velocity', reason: `${next.outShort.toFixed(1)} outgoing in ~${t.shortWindowS}s, usual ${expected.toFixed(2)}` });
  }
  if (prev.outCount >= t.spikeMinHistory && amount >= t.spikeMinAmountMinor && amount >= t.spikeMultiple * prev.ewmaAmount && amount >= t.spikeOverMaxMultiple * prev.maxOutAmount) {
    hits.push({ rule: 'amount_spike', reason: `amount ${amount} is ${(amount / Math.max(1, prev.ewmaAmount)).toFixed(1)}x the usual ${Math.round(prev.ewmaAmount)}` });
  }
  if (amount >= t.bigOutMinAmountMinor) {
    const gapS = prev.lastSeenMs === null ? 0 : (e.occurredAtMs - prev.lastSeenMs) / 1000;
    const ageS = prev.firstSeenMs === null ? 0 : (e.occurredAtMs - prev.firstSeenMs) / 1000;
    if (prev.lastSeenMs !== null && gapS >= t.dormantMinGapS) {
      hits.push({ rule: 'dormant_big_out', reason: `amount ${amount} after ${(gapS / 86400).toFixed(0)} idle days` });
    } else if (prev.outCount === 0 && ageS <= t.newAccountMaxAgeS) {
      hits.push({ rule: 'new_account_big_out', reason: `amount ${amount} out of an account first seen ${(ageS / 3600).toFixed(1)} h ago` });
    }
  }
  if (e.type === 'transfer' && e.counterparty !== undefined && !knowsCounterparty(prev, e.counterparty) && next.newCounterpartyShort >= Math.max(t.fanOutMinCount, t.fanOutRateMultiple * expectedNewCounterparties(prev, t, e.occurredAtMs))) {
    hits.push({ rule: 'fan_out', reason: `${next.newCounterpartyShort.toFixed(1)} new counterparties in ~${t.fanOutWindowS}s` });
  }
  return hits;
}

/**
 * The account's usual outgoing rate (per second) from its long decayed count. An account observed
 * for less than the pace window has had less time to accumulate it, so the count is divided by
 * the window it actually filled (at least ten short windows, so a burst on a fresh account is not
 * its own baseline).
 */
export function usualRatePerS(prev: AccountStats, t: FraudThresholds, atMs: number, floorS = 10 * t.shortWindowS): number {
  const observedS = Math.max(floorS, prev.firstSeenMs === null ? 0 : (atMs - prev.firstSeenMs) / 1000);
  return (prev.outLong ?? 0) / (t.paceWindowS * (1 - Math.exp(-observedS / t.paceWindowS)));
}

/** What the account's usual pace predicts for the short window. */
export function expectedShortCount(prev: AccountStats, t: FraudThresholds, atMs: number): number {
  return usualRatePerS(prev, t, atMs) * t.shortWindowS;
}

/** New counterparties the account's habit predicts for the fan-out window (share of new payees × pace). */
export function expectedNewCounterparties(prev: AccountStats, t: FraudThresholds, atMs: number): number {
  if (prev.outCount === 0) return 0;
  return usualRatePerS(prev, t, atMs, t.paceWindowS) * t.fanOutWindowS * (prev.counterpartyCount / prev.outCount);
}

/** A stored transfer: one leg of a possible round trip. */
export interface TransferLeg {
  id: string;
  from: string;
  to: string;
  amountMinor: string;
  occurredAtMs: number;
}

function close(a: string, b: string, tolerance: number): boolean {
  const x = Number(a);
  const y = Number(b);
  return Math.abs(x - y) <= tolerance * Math.max(x, y);
}

/**
 * Round trip u→v→w→u: `e` (u→v) plus stored legs v→w and w→u with similar amounts, all within the
 * window. Whichever leg is applied last finds the other two, so partition order does not matter.
 */
export function findRoundTrip(e: TransferLeg, stored: ReadonlyArray<TransferLeg>, t: FraudThresholds): [TransferLeg, TransferLeg] | null {
  const windowMs = t.roundTripWindowS * 1000;
  if (Number(e.amountMinor) < t.roundTripMinAmountMinor) return null;
  for (const vw of stored) {
    if (vw.from !== e.to || vw.to === e.from || vw.id === e.id) continue;
    if (Math.abs(vw.occurredAtMs - e.occurredAtMs) > windowMs || !close(vw.amountMinor, e.amountMinor, t.roundTripAmountTolerance)) continue;
    for (const wu of stored) {
      if (wu.from !== vw.to || wu.to !== e.from || wu.id === e.id) continue;
      const times = [e.occurredAtMs, vw.occurredAtMs, wu.occurredAtMs];
      if (Math.max(...times) - Math.min(...times) > windowMs) continue;
      if (close(wu.amountMinor, e.amountMinor, t.roundTripAmountTolerance)) return [vw, wu];
    }
  }
  return null;
}

/**
 * Anomaly score in [0, 1) from the account's statistics: how far the event sits from the account's
 * own amount distribution and pace. Independent of the rules, so it catches mixtures they miss.
 */
export function anomalyScore(e: ScoredEvent, prev: AccountStats, next: AccountStats, t: FraudThresholds, residual = 0): number {
  if (e.type === 'credit') return 0;
  const amount = Number(e.amountMinor);
  let excess = 0;
  if (prev.outCount >= t.spikeMinHistory) {
    const z = (Math.log(Math.max(1, amount)) - prev.ewmaLogAmount) / Math.sqrt(prev.ewmaLogVar + 0.25);
    excess += Math.max(0, z - 3);
  }
  const expected = expectedShortCount(prev, t, e.occurredAtMs);
  excess += Math.max(0, Math.log(next.outShort / Math.max(t.velocityMinCount, t.velocityRateMultiple * expected)) + 1) * 0.5;
  excess += Math.max(0, next.tinyShort - t.cardTestingMinCount + 1) * 0.5;
  excess += Math.max(0, next.newCounterpartyShort - Math.max(t.fanOutMinCount, t.fanOutRateMultiple * expectedNewCounterparties(prev, t, e.occurredAtMs)) + 1) * 0.5;
  excess += Math.max(0, residual - 1);
  return 1 - Math.exp(-excess);
}
