// Bundled by the naive-baseline worker only (never by the production worker): deterministic code.
import { proxyActivities } from '@temporalio/workflow';
import type { TransactionEvent } from '../../domain/transaction';
import type { NaiveActivities } from './types';

const { insertTransaction } = proxyActivities<NaiveActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '200 ms', backoffCoefficient: 2, maximumInterval: '10 s' },
});

/** Baseline only: one workflow, one activity, one row per transaction (what batching replaces). */
export async function naiveTransaction(event: TransactionEvent): Promise<boolean> {
  return insertTransaction(event);
}
