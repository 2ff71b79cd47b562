import { featuresOf, normalised, project, type PcaModel } from './embedding';
import { anomalyScore, checkRules, findRoundTrip, type FraudThresholds, type RuleHit, type RuleName, type TransferLeg } from './rules';
import { decayedTo, emptyStats, knowsCounterparty, RECENT_NEW_COUNTERPARTY, RECENT_OUTGOING, RECENT_TINY_DEBIT, updateStats, type AccountStats } from './stats';

/** A transaction as detection sees it (a subset of SourcedEvent, so the domain stays decoupled). */
export interface DetectEvent {
  id: string;
  account: string;
  type: 'debit' | 'credit' | 'transfer';
  amountMinor: string;
  counterparty?: string | undefined;
  occurredAt: string;
}

export interface FraudFlag {
  txId: string;
  account: string;
  score: number;
  /** e.g. ['rule:card_testing', 'anomaly', 'knn']. */
  detectors: string[];
  reasons: string[];
  /** Unit-length embedding, when a model is loaded (stored so a confirmed fraud can join the index). */
  embedding: number[] | null;
  /** Set for a flag on a transaction of an earlier batch (the other legs of a round trip). */
  late: boolean;
}

export interface NearestFraud {
  similarity: number;
  txId: string;
}

export interface DetectionContext {
  thresholds: FraudThresholds;
  model: PcaModel | null;
  /** Nearest confirmed-fraud vector to a unit embedding, or null when the set is empty. */
  nearestFraud: (embedding: number[]) => NearestFraud | null;
  /** Stored transfers near the batch's transfers (round-trip candidates), loaded by the store. */
  storedTransfers: ReadonlyArray<TransferLeg>;
  /** Sees every scored (non-credit) transaction's feature vector: how `fraud train` collects samples. */
  onFeatures?: (txId: string, features: number[]) => void;
}

export interface DetectionOutcome {
  flags: FraudFlag[];
  /** Updated statistics of every account that sent a transaction in the batch. */
  stats: Map<string, AccountStats>;
}

const RULE_SCORE = 0.95;

/**
 * Rules whose earlier members are flagged too once the burst is evident (kind bit of the account's
 * recent ring). A member from an earlier batch gets a late flag.
 */
const BURST_MEMBER: Partial<Record<RuleName, number>> = {
  card_testing: RECENT_TINY_DEBIT,
  velocity: RECENT_OUTGOING,
  fan_out: RECENT_NEW_COUNTERPARTY,
};

/**
 * Scores the batch's newly inserted transactions in offset order against their accounts'
 * statistics. Pure: the caller loads and stores the state in the batch's database transaction.
 */
export function detectBatch(events: ReadonlyArray<DetectEvent>, loaded: ReadonlyMap<string, AccountStats>, ctx: DetectionContext): DetectionOutcome {
  const t = ctx.thresholds;
  const stats = new Map<string, AccountStats>();
  const flags = new Map<string, FraudFlag>();
  const inBatch = new Set(events.map((e) => e.id));
  const legs: TransferLeg[] = [...ctx.storedTransfers];

  for (const e of events) {
    const atMs = Date.parse(e.occurredAt);
    const prev = decayedTo(stats.get(e.account) ?? loaded.get(e.account) ?? emptyStats(e.account), atMs, t);
    const scored = { id: e.id, type: e.type, amountMinor: e.amountMinor, counterparty: e.counterparty, occurredAtMs: atMs };
    const next = updateStats(prev, scored, t);
    stats.set(e.account, next);
    const newCp = e.type === 'transfer' && e.counterparty !== undefined && !knowsCounterparty(prev, e.counterparty);
    const hits: RuleHit[] = checkRules(scored, prev, next, t);

    if (e.type === 'transfer' && e.counterparty !== undefined) {
      const leg: TransferLeg = { id: e.id, from: e.account, to: e.counterparty, amountMinor: e.amountMinor, occurredAtMs: atMs };
      const trip = findRoundTrip(leg, legs, t);
      if (trip) {
        hits.push({ rule: 'round_trip', reason: `round trip ${e.account}→${e.counterparty}→${trip[0].to}→${e.account}` });
        for (const other of trip) addFlag(flags, other.id, other.from, RULE_SCORE, ['rule:round_trip'], [`leg of round trip closed by ${e.id}`], null, !inBatch.has(other.id));
      }
      legs.push(leg);
    }

    let embedding: number[] | null = null;
    let residual = 0;
    const detectors = hits.map((h) => `rule:${h.rule}`);
    const reasons = hits.map((h) => h.reason);
    let score = hits.length > 0 ? RULE_SCORE : 0;
    const features = e.type !== 'credit' && (ctx.model || ctx.onFeatures) ? featuresOf(scored, prev, next, newCp, t) : null;
    if (features) ctx.onFeatures?.(e.id, features);
    if (ctx.model && features) {
      const projected = project(ctx.model, features);
      residual = projected.residual;
      const norm = Math.sqrt(projected.embedding.reduce((s, x) => s + x * x, 0));
      embedding = normalised(projected.embedding);
      const nearest = norm >= t.knnMinNorm ? ctx.nearestFraud(embedding) : null;
      if (nearest && nearest.similarity >= t.knnMinSimilarity) {
        detectors.push('knn');
        reasons.push(`similar (${nearest.similarity.toFixed(3)}) to confirmed fraud ${nearest.txId}`);
        score = Math.max(score, nearest.similarity);
      }
    }
    const anomaly = anomalyScore(scored, prev, next, t, residual);
    if (anomaly >= t.anomalyThreshold) {
      detectors.push('anomaly');
      reasons.push(`anomaly score ${anomaly.toFixed(3)}`);
    }
    score = Math.max(score, anomaly);
    if (detectors.length > 1) score = Math.max(score, 0.99);

    if (detectors.length > 0) {
      addFlag(flags, e.id, e.account, score, detectors, reasons, embedding, false);
      for (const hit of hits) {
        const kind = BURST_MEMBER[hit.rule];
        if (kind === undefined) continue;
        const windowMs = (hit.rule === 'fan_out' ? t.fanOutWindowS : t.shortWindowS) * 1000;
        const detector = `rule:${hit.rule}`;
        for (const [id, memberAtMs, bits] of prev.recent ?? []) {
          if (atMs - memberAtMs > windowMs || (bits & kind) === 0) continue;
          // Once per member and rule: every later hit of a long burst would add another reason
          // (and rewrite the flag), which tells a reviewer nothing new (bursts of thousands
          // in the benchmark made this the detector's hottest line).
          if (flags.get(id)?.detectors.includes(detector)) continue;
          addFlag(flags, id, e.account, RULE_SCORE, [detector], [`earlier member of the burst flagged at ${e.id}`], null, !inBatch.has(id));
        }
      }
    }
  }
  return { flags: [...flags.values()], stats };
}

/**
 * Round trips among transfers that are all committed, for the sweep after a batch commits. Legs
 * applied by concurrent batches (other partitions) cannot see each other inside their
 * transactions, so neither closes the cycle there; once both are committed, the sweep of the
 * batch that committed last finds it. Every leg of a cycle found gets a late flag.
 */
export function roundTripSweep(transfers: ReadonlyArray<TransferLeg>, stored: ReadonlyArray<TransferLeg>, t: FraudThresholds): FraudFlag[] {
  const flags = new Map<string, FraudFlag>();
  for (const leg of transfers) {
    const trip = findRoundTrip(leg, stored, t);
    if (!trip) continue;
    const reason = `round trip ${leg.from}→${leg.to}→${trip[0].to}→${leg.from}`;
    for (const l of [leg, ...trip]) addFlag(flags, l.id, l.from, RULE_SCORE, ['rule:round_trip'], [reason], null, true);
  }
  return [...flags.values()];
}

function addFlag(flags: Map<string, FraudFlag>, txId: string, account: string, score: number, detectors: string[], reasons: string[], embedding: number[] | null, late: boolean): void {
  const existing = flags.get(txId);
  if (!existing) {
    flags.set(txId, { txId, account, score, detectors: [...detectors], reasons: [...reasons], embedding, late });
    return;
  }
  existing.score = Math.max(existing.score, score);
  for (const d of detectors) if (!existing.detectors.includes(d)) existing.detectors.push(d);
  for (const r of reasons) if (!existing.reasons.includes(r)) existing.reasons.push(r);
  existing.embedding ??= embedding;
}
