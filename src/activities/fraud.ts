import { detectBatch, roundTripSweep, type FraudFlag, type NearestFraud } from '../domain/fraud/detect';
import type { PcaModel } from '../domain/fraud/embedding';
import type { FraudThresholds, TransferLeg } from '../domain/fraud/rules';
import type { Decision } from '../domain/ledger';
import type { SourcedEvent } from '../domain/transaction';
import { insertFlags, loadRoundTripLegs, lockAccountStats, openReviews, saveAccountStats, undecidedReviewCount, undecidedReviews } from '../store/fraud';
import type { Connection, Pool } from '../store/pool';

export interface ReviewStart {
  txId: string;
  account: string;
  score: number;
}

/** How a batch's review candidates were handled: opened, or left as flags (and why). */
export interface ReviewAdmission {
  opened: number;
  /** Over the batch's own limit (fraud.reviewOpensPerBatchMax). */
  overBatchLimit: number;
  /** Refused because the queue of undecided reviews was full (fraud.reviewQueueMax). */
  queueFull: number;
  /** Undecided reviews this batch saw, its own included. */
  queueDepth: number;
}

export interface FraudDeps {
  thresholds: FraudThresholds;
  /** Applied transactions scoring at or above this are held for review. */
  reviewThreshold: number;
  /** Most reviews one batch opens (highest scores first); the rest stay flags. */
  reviewOpensPerBatchMax: number;
  /** Most undecided reviews at once; absent: unbounded (reviews not started, e.g. in tests of detection). */
  reviewQueueMax?: number;
  /** Told after each committed batch how its review candidates were handled (the worker's metrics). */
  onReviewAdmission?: (admission: ReviewAdmission) => void;
  model: PcaModel | null;
  nearestFraud: (embedding: number[]) => NearestFraud | null;
  /** Starts reviewTransaction workflows (idempotent by workflow id); absent: reviews are stored but not started. */
  startReviews?: (reviews: ReadonlyArray<ReviewStart>) => Promise<void>;
}

/** The batch's transfers that could be a leg of a round trip (only material sums are checked). */
function roundTripCandidates(events: ReadonlyArray<SourcedEvent>, minAmountMinor: number): TransferLeg[] {
  const out: TransferLeg[] = [];
  for (const e of events) {
    if (e.type !== 'transfer' || e.counterparty === undefined || Number(e.amountMinor) < minAmountMinor) continue;
    out.push({ id: e.id, from: e.account, to: e.counterparty, amountMinor: e.amountMinor, occurredAtMs: Date.parse(e.occurredAt) });
  }
  return out;
}

/**
 * Detection inside the batch's database transaction, over the rows this attempt inserted only:
 * a replay inserts nothing, so it updates no statistics and adds no flag (no double count).
 * Statistics rows are locked in sorted account order, like balances.
 *
 * Statements are pipelined: the reads (statistics, round-trip legs) go out together, and so do
 * the writes (statistics, flags, reviews); mysql2 runs them in order on the one connection, so
 * the lock order and the transaction are those of sequential statements, without a client round
 * trip between them while the batch holds its balance locks.
 */
export async function detectInTransaction(conn: Connection, deps: FraudDeps, batchId: string, decisions: ReadonlyArray<Decision>): Promise<{ flags: FraudFlag[]; reviews: number; admission: ReviewAdmission }> {
  if (decisions.length === 0) return { flags: [], reviews: 0, admission: { opened: 0, overBatchLimit: 0, queueFull: 0, queueDepth: 0 } };
  const t = deps.thresholds;
  const events = decisions.map((d) => d.event);
  const accounts = [...new Set(events.map((e) => e.account))].sort();
  // The queue's depth goes out with the reads (no round trip of its own). It cannot see reviews
  // that concurrent batches have not committed yet: the queue may pass its maximum by at most
  // (batches in flight - 1) x reviewOpensPerBatchMax.
  const [stats, storedTransfers, queueDepth] = await Promise.all([
    lockAccountStats(conn, accounts),
    loadRoundTripLegs(conn, roundTripCandidates(events, t.roundTripMinAmountMinor), t.roundTripWindowS, t.roundTripMinAmountMinor),
    deps.reviewQueueMax === undefined ? Promise.resolve(0) : undecidedReviewCount(conn),
  ]);
  const outcome = detectBatch(events, stats, { thresholds: t, model: deps.model, nearestFraud: deps.nearestFraud, storedTransfers });
  const applied = new Set(decisions.filter((d) => d.status === 'applied').map((d) => d.event.id));
  const candidates = outcome.flags.filter((f) => !f.late && f.score >= deps.reviewThreshold && applied.has(f.txId));
  const admission = admitReviews(candidates.length, queueDepth, deps);
  // Highest scores first; ties in offset order (the sort is stable).
  const toReview = admission.opened === candidates.length ? candidates : [...candidates].sort((a, b) => b.score - a.score).slice(0, admission.opened);
  await Promise.all([saveAccountStats(conn, accounts.flatMap((a) => outcome.stats.get(a) ?? [])), insertFlags(conn, batchId, outcome.flags), openReviews(conn, toReview)]);
  return { flags: outcome.flags, reviews: toReview.length, admission };
}

/**
 * How many of a batch's review candidates it opens: a review is a workflow waiting hours for a
 * person, so a flood of flags (a new fraud wave, a detector gone wrong, untuned thresholds) must
 * not become a flood of workflows. Past either limit the transactions stay applied and flagged,
 * visible in fraud_flags and the dashboards, and are counted.
 */
export function admitReviews(candidates: number, queueDepth: number, limits: Pick<FraudDeps, 'reviewOpensPerBatchMax' | 'reviewQueueMax'>): ReviewAdmission {
  const perBatch = Math.min(candidates, limits.reviewOpensPerBatchMax);
  const room = limits.reviewQueueMax === undefined ? perBatch : Math.max(0, limits.reviewQueueMax - queueDepth);
  const opened = Math.min(perBatch, room);
  return { opened, overBatchLimit: candidates - perBatch, queueFull: perBatch - opened, queueDepth: queueDepth + opened };
}

/**
 * After commit: every undecided review of the batch gets its workflow. Asked of the database, not
 * of this attempt, so a crash between commit and start is repaired by the activity's retry.
 */
export async function startBatchReviews(pool: Pool, deps: FraudDeps, txIds: ReadonlyArray<string>): Promise<void> {
  if (!deps.startReviews) return;
  const reviews = await undecidedReviews(pool, txIds);
  if (reviews.length > 0) await deps.startReviews(reviews);
}

/**
 * After commit: round trips whose last legs were applied by concurrent batches (see
 * roundTripSweep), over the batch's qualifying transfers, asked of the committed data. Idempotent
 * (a flag row is written once), so a retry after a crash between commit and sweep repairs it.
 * Returns the flags it wrote or found.
 */
export async function sweepRoundTrips(pool: Pool, deps: FraudDeps, batchId: string, events: ReadonlyArray<SourcedEvent>): Promise<number> {
  const t = deps.thresholds;
  const transfers = roundTripCandidates(events, t.roundTripMinAmountMinor);
  if (transfers.length === 0) return 0;
  // No transaction: two reads of committed rows and an idempotent upsert of whole flag rows need
  // none, and the sweep runs on the batch's path (3 statements fewer per batch).
  const conn = await pool.getConnection();
  try {
    const stored = await loadRoundTripLegs(conn, transfers, t.roundTripWindowS, t.roundTripMinAmountMinor);
    const flags = roundTripSweep(transfers, stored, t);
    if (flags.length > 0) await insertFlags(conn, batchId, flags);
    return flags.length;
  } finally {
    conn.release();
  }
}
