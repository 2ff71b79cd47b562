import type { TransactionEvent } from '../domain/transaction';
import { createEventGenerator } from '../producer/generator';
import { createLabelledWorkload } from '../producer/labelled';

/**
 * The traffic a benchmark part sends or loads.
 * - `labelled`: the labelled workload (`src/producer/labelled.ts`, the one `fraud eval` measures
 *   the detector on): simulated event time, per-account habits, `BENCH_FRAUD_RATE` injected fraud.
 * - `random`: the producer's default traffic. Its event time is the wall clock, so a backlog
 *   produced at full speed puts hundreds of transactions a second on the hottest accounts, and
 *   fraud detection rightly flags most of them (measured: 92 % flagged, 63 % held for review).
 */
export const WORKLOADS = ['labelled', 'random'] as const;
export type Workload = (typeof WORKLOADS)[number];

/** Injected fraud share of the labelled workload: `fraud eval`'s default. */
export const BENCH_FRAUD_RATE = 0.015;

export function isWorkload(value: string): value is Workload {
  return (WORKLOADS as ReadonlyArray<string>).includes(value);
}

/** The workload's well-formed events, in the order the producer would send them. */
export function workloadEvents(workload: Workload, options: { accounts: number; seed: number; occurredAt?: () => string }): () => TransactionEvent {
  if (workload === 'random') return createEventGenerator({ accounts: options.accounts, seed: options.seed, ...(options.occurredAt ? { occurredAt: options.occurredAt } : {}) });
  if (options.occurredAt) throw new Error('the labelled workload simulates its own event time');
  const next = createLabelledWorkload({ seed: options.seed, accounts: options.accounts, fraudRate: BENCH_FRAUD_RATE });
  return () => next().event;
}

/** `ledgerflow produce` arguments that select the workload. */
export function produceArgs(workload: Workload): string[] {
  return workload === 'labelled' ? ['--fraud-rate', String(BENCH_FRAUD_RATE)] : [];
}
