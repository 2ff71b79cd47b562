import type { TransactionEvent } from '../domain/transaction';
import { createEventGenerator } from '../producer/generator';

/**
 * The traffic a benchmark part sends or loads; both are the producer's traffic model
 * (docs/traffic-model.md), with BENCH_FRAUD_RATE injected fraud.
 * - `labelled`: on the model's simulated clock, as `fraud eval` measures the detector: a backlog
 *   sent at full speed still has each account's own pace, so detection sees a bank, not a flood.
 * - `random`: on the wall clock (the default traffic). A backlog produced at full speed stamps
 *   every event "now", so its accounts appear to pay many times a second and detection flags them.
 */
export const WORKLOADS = ['labelled', 'random'] as const;
export type Workload = (typeof WORKLOADS)[number];

/** Injected fraud share of the benchmark's traffic: `fraud eval`'s default. */
export const BENCH_FRAUD_RATE = 0.015;

export function isWorkload(value: string): value is Workload {
  return (WORKLOADS as ReadonlyArray<string>).includes(value);
}

/** The workload's well-formed events, in the order the producer would send them. */
export function workloadEvents(workload: Workload, options: { accounts: number; seed: number; occurredAt?: () => string }): () => TransactionEvent {
  if (workload === 'random') return createEventGenerator({ accounts: options.accounts, seed: options.seed, fraudRate: BENCH_FRAUD_RATE, ...(options.occurredAt ? { occurredAt: options.occurredAt } : {}) });
  if (options.occurredAt) throw new Error('the labelled workload simulates its own event time');
  return createEventGenerator({ accounts: options.accounts, seed: options.seed, fraudRate: BENCH_FRAUD_RATE, clock: 'simulated' });
}

/** `ledgerflow produce` arguments that select the workload. */
export function produceArgs(workload: Workload): string[] {
  return workload === 'labelled' ? ['--clock', 'simulated', '--fraud-rate', String(BENCH_FRAUD_RATE)] : ['--fraud-rate', String(BENCH_FRAUD_RATE)];
}
