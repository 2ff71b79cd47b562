import { invariant } from '../domain/errors';
import { decideBatch, mergeRollups, netExternalFlow, ownBalanceKeysOf, reversalOf, splitCredits, type AccountDayDelta, type RollupDelta } from '../domain/ledger';
import type { RejectionReason } from '../domain/rules';
import { contentOf } from '../domain/identity';
import type { SourcedEvent } from '../domain/transaction';
import {
  applyAccountRollups,
  applyRollups,
  deleteFoldedCredits,
  insertPendingCredits,
  insertTransactions,
  lockBalances,
  readPendingCredits,
  writeBalances,
  type CreditDelete,
  type RowWrite,
} from '../store/ledger';
import { recordConflicts, repointConflicts, type ConflictInput } from '../store/conflicts';
import { deleteStoredRows, findStoredVariants, forgetFraudOf, moveStoredSource, registerIds, reviewReversed, type StoredVariant } from '../store/identity';
import type { Connection } from '../store/pool';
import type { ApplyBatchInput, ApplyBatchResult } from '../workflows/types';
import { planFold, markReturned, returnRollups } from './fold';
import { detectInTransaction, type FraudDeps, type ReviewAdmission } from './fraud';
import { keysOfSuperseded, NeedsBalanceKeys, resolveIds, splitRepeats, type EventOriginals } from './identity';

/** What the transaction body needs of the worker's dependencies. */
export interface ApplyEventsDeps {
  overdraftLimitMinor: bigint;
  fraud?: FraudDeps;
  rowWrite?: RowWrite;
  /** SingleStore: ids are also written to `transaction_ids` (unique across accounts there, see src/store/identity.ts). */
  idRegistry?: boolean;
  /**
   * Rows per upsert of the rows every batch shares (the rollups). SingleStore: 1, so they are
   * locked in one global order (see applyRollups, decision 027); default: multi-row statements.
   */
  sharedRowsPerStatement?: number;
  /** How folded credits are deleted by key (src/store/ledger.ts); default `join` (MariaDB). */
  creditDelete?: CreditDelete;
  /** The topic batches come from (recorded with conflicts and parked events); default `transactions`. */
  topic?: string;
}

/** Where the batch came from, for what the transaction records: its id and its events' original bytes. */
export interface BatchSource {
  originals?: EventOriginals;
  /** Balance keys to hold besides the events' own (a supersession's, see NeedsBalanceKeys). */
  extraKeys?: ReadonlyArray<string>;
}

/** First occurrence of an id wins inside a batch (a client may send the same key twice). */
export function firstOfEachId(events: ReadonlyArray<SourcedEvent>): SourcedEvent[] {
  return splitRepeats(events).unique;
}

/** The review admission of a committed attempt, by its result (reported once, after the commit). */
const admissions = new WeakMap<ApplyBatchResult, ReviewAdmission>();

/** How the attempt that produced `result` handled its review candidates; undefined without detection. */
export function reviewAdmissionOf(result: ApplyBatchResult): ReviewAdmission | undefined {
  return admissions.get(result);
}

/** A sorted union of sorted keys and extra ones. */
function withExtraKeys(keys: ReadonlyArray<string>, extra: ReadonlyArray<string>): string[] {
  if (extra.length === 0) return [...keys];
  return [...new Set([...keys, ...extra])].sort();
}

/** What superseding stored rows removes: balance deltas (on held keys), rollup rows, external flow. */
interface Reversals {
  deltas: Map<string, bigint>;
  rollups: RollupDelta[];
  accountDays: AccountDayDelta[];
  external: bigint;
}

async function reversalsOf(conn: Connection, superseded: ReadonlyArray<StoredVariant>): Promise<Reversals> {
  const out: Reversals = { deltas: new Map(), rollups: [], accountDays: [], external: 0n };
  if (superseded.length === 0) return out;
  const reversed = await reviewReversed(conn, superseded.map((s) => s.id));
  for (const s of superseded) {
    const r = reversalOf(s, reversed.has(s.id));
    for (const [key, d] of r.balanceDeltas) out.deltas.set(key, (out.deltas.get(key) ?? 0n) + d);
    out.rollups.push(r.rollup);
    out.accountDays.push(r.accountDay);
    out.external += r.external;
  }
  return out;
}

/**
 * The batch's work inside ONE database transaction (the caller's): only events not stored yet are
 * inserted, and only those move balances and rollups, so any replay of the same batch changes
 * nothing. `lookUp`: skip the ids already stored (else any stored id fails the attempt).
 * `eventKeys` are ownBalanceKeysOf(input.events): the same keys as the unique events' when no id
 * repeats (a repeated id may carry another account, and only its first copy counts).
 */
export async function applyEventsIn(conn: Connection, deps: ApplyEventsDeps, input: ApplyBatchInput, lookUp: boolean, eventKeys: string[], source: BatchSource = {}): Promise<ApplyBatchResult> {
  const { unique, repeats } = splitRepeats(input.events);
  // Only the batch's own balance rows are locked (its partition's accounts); credits to other
  // accounts wait in balance_credits, and the credits waiting for our own accounts are folded in.
  // A supersession also holds the superseded row's accounts: all in one sorted pass.
  const ownKeys = withExtraKeys(unique.length === input.events.length ? eventKeys : ownBalanceKeysOf(unique), source.extraKeys ?? []);
  const held = new Set(ownKeys);
  const locked = await lockBalances(conn, ownKeys);
  // Credits committed before the lock come first: folded, or returned to their sender when they
  // would take the balance past its column (src/activities/fold.ts).
  const fold = await planFold(conn, locked, (await readPendingCredits(conn, held)).rows);
  const balances = new Map(fold.totals);
  const stored = lookUp ? await findStoredVariants(conn, unique.map((e) => e.id), deps.idRegistry === true) : new Map<string, StoredVariant>();
  const ids = resolveIds(unique, repeats, stored);
  const missing = keysOfSuperseded(ids.superseded).filter((key) => !held.has(key));
  if (missing.length > 0) throw new NeedsBalanceKeys(missing);
  // A superseded row's effects go first: the batch's events are decided after them.
  const reversals = await reversalsOf(conn, ids.superseded);
  for (const [key, d] of reversals.deltas) balances.set(key, (balances.get(key) ?? 0n) + d);
  const rejections = new Map(Object.entries(input.rejections) as Array<[string, RejectionReason]>);
  const outcome = decideBatch(ids.fresh, rejections, balances, deps.overdraftLimitMinor);
  const { deltas, credits } = splitCredits(outcome, held);
  for (const [key, d] of reversals.deltas) deltas.set(key, (deltas.get(key) ?? 0n) + d);
  mergeRollups(outcome, reversals.rollups, reversals.accountDays);
  const returns = returnRollups(fold.returned);
  mergeRollups(outcome, returns.rollups, returns.accountDays);

  let deltaSum = 0n;
  for (const d of deltas.values()) deltaSum += d;
  for (const c of credits) deltaSum += c.amountMinor;
  invariant(deltaSum === netExternalFlow(outcome.decisions) + reversals.external, 'transfers must net to zero', input.batchId);
  const rows = new Map<string, bigint>();
  for (const [key, value] of fold.rows) {
    const delta = deltas.get(key) ?? 0n;
    if (delta !== 0n || value !== locked.get(key)) rows.set(key, value + delta);
  }
  if (ids.superseded.length > 0) {
    await forgetFraudOf(conn, ids.superseded.map((v) => v.id));
    await deleteStoredRows(conn, ids.superseded, deps.idRegistry === true);
  }
  const fraud = deps.fraud ? await detectInTransaction(conn, deps.fraud, input.batchId, outcome.decisions) : undefined;

  if (deps.idRegistry) await registerIds(conn, outcome.decisions);
  await insertTransactions(conn, input.batchId, outcome.decisions, deps.rowWrite);
  const recorded = await recordIdOutcomes(conn, deps, input.batchId, ids, source);
  await markReturned(conn, fold.returned);
  await writeBalances(conn, rows);
  await deleteFoldedCredits(conn, fold.consumed, deps.creditDelete);
  await applyAccountRollups(conn, outcome.accountDays);
  // Rows every concurrent batch shares come last, so their locks are held only until the commit
  // (detection, above, runs before them for the same reason: docs/decisions/009-fraud-detection-cost.md).
  await insertPendingCredits(conn, [...credits, ...fold.refunds]);
  await applyRollups(conn, outcome.rollups, deps.sharedRowsPerStatement);

  const rejectedByReason: Partial<Record<RejectionReason, number>> = {};
  let applied = 0;
  for (const d of outcome.decisions) {
    if (d.status === 'applied') applied += 1;
    else if (d.reason) rejectedByReason[d.reason] = (rejectedByReason[d.reason] ?? 0) + 1;
  }
  const result: ApplyBatchResult = {
    batchId: input.batchId,
    inserted: outcome.decisions.length,
    duplicates: ids.duplicates,
    applied,
    rejected: outcome.decisions.length - applied,
    rejectedByReason,
    flagged: fraud?.flags.length ?? 0,
    reviews: fraud?.reviews ?? 0,
    parked: 0,
    isolationSteps: 0,
    conflicts: recorded,
    superseded: ids.superseded.length,
    returned: fold.returned.length,
  };
  if (fraud) admissions.set(result, fraud.admission);
  return result;
}

/**
 * Records the batch's conflicts (the arriving ones with their message bytes), moves stored rows'
 * sources to earlier copies, and points older conflicts of superseded or moved ids at the row now
 * stored. Returns how many conflicts this attempt recorded for the first time.
 */
async function recordIdOutcomes(conn: Connection, deps: ApplyEventsDeps, batchId: string, ids: ReturnType<typeof resolveIds>, source: BatchSource): Promise<number> {
  if (ids.conflicts.length === 0 && ids.moves.length === 0) return 0;
  for (const m of ids.moves) await moveStoredSource(conn, m.stored, m.to, batchId, deps.idRegistry === true);
  const rows: ConflictInput[] = [];
  for (const { arriving, ...c } of ids.conflicts) {
    const payload = arriving && source.originals ? (await source.originals.of(arriving)).bytes : null;
    rows.push({ ...c, topic: deps.topic ?? 'transactions', payload, batchId });
  }
  const recorded = await recordConflicts(conn, rows);
  const winners = new Map<string, { partition: number; offset: string; content: ConflictInput['stored']['content'] }>();
  for (const c of ids.conflicts) if (c.outcome === 'superseded') winners.set(c.txId, c.stored);
  for (const m of ids.moves) winners.set(m.to.id, { partition: m.to.partition, offset: m.to.offset, content: contentOf(m.to) });
  for (const [txId, stored] of winners) await repointConflicts(conn, txId, stored);
  return recorded;
}
