import type { TransactionEvent } from '../../domain/transaction';

/** The seed's shape: one workflow per transaction, its activity one single-row INSERT. */
export interface NaiveActivities {
  insertTransaction(event: TransactionEvent): Promise<boolean>;
}
