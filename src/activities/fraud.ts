import { detectBatch, roundTripSweep, type FraudFlag, type NearestFraud } from '../domain/fraud/detect';
import type { PcaModel } from '../domain/fraud/embedding';
import type { FraudThresholds, TransferLeg } from '../domain/fraud/rules';
import type { Decision } from '../domain/ledger';
import type { SourcedEvent } from '../domain/transaction';
import { insertFlags, loadRoundTripLegs, lockAccountStats, openReviews, saveAccountStats, undecidedReviews } from '../store/fraud';
import type { Connection, Pool } from '../store/pool';

export interface ReviewStart {
  txId: string;
  account: string;
  score: number;
}

export interface FraudDeps {
  thresholds: FraudThresholds;
  /** Applied transactions scoring at or above this are held for review. */
  reviewThreshold: number;
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
export async function detectInTransaction(conn: Connection, deps: FraudDeps, batchId: string, decisions: ReadonlyArray<Decision>): Promise<{ flags: FraudFlag[]; reviews: number }> {
  if (decisions.length === 0) return { flags: [], reviews: 0 };
  const t = deps.thresholds;
  const events = decisions.map((d) => d.event);
  const accounts = [...new Set(events.map((e) => e.account))].sort();
  const [stats, storedTransfers] = await Promise.all([
    lockAccountStats(conn, accounts),
    loadRoundTripLegs(conn, roundTripCandidates(events, t.roundTripMinAmountMinor), t.roundTripWindowS, t.roundTripMinAmountMinor),
  ]);
  const outcome = detectBatch(events, stats, { thresholds: t, model: deps.model, nearestFraud: deps.nearestFraud, storedTransfers });
  const applied = new Set(decisions.filter((d) => d.status === 'applied').map((d) => d.event.id));
  const toReview = outcome.flags.filter((f) => !f.late && f.score >= deps.reviewThreshold && applied.has(f.txId));
  await Promise.all([saveAccountStats(conn, outcome.stats), insertFlags(conn, batchId, outcome.flags), openReviews(conn, toReview)]);
  return { flags: outcome.flags, reviews: toReview.length };
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
