import type { TransactionEvent } from '../../domain/transaction';
import type { Pool } from '../../store/pool';
import { toDbDateTime } from '../../store/pool';
import type { NaiveActivities } from './types';

/** One single-row INSERT per transaction (IGNORE keeps a retried activity idempotent). */
export function createNaiveActivities(pool: Pool): NaiveActivities {
  return {
    insertTransaction: async (e) => {
      const [result] = await pool.query(
        `INSERT IGNORE INTO transactions
           (id, account, counterparty, type, amount_minor, currency, status, reason, description,
            occurred_at, source_partition, source_offset, batch_id)
         VALUES (?, ?, ?, ?, ?, ?, 'applied', NULL, ?, ?, 0, 0, ?)`,
        [e.id, e.account, e.counterparty ?? null, e.type, e.amountMinor, e.currency, e.description ?? null, toDbDateTime(e.occurredAt), `naive-${e.id}`],
      );
      return (result as { affectedRows: number }).affectedRows === 1;
    },
  };
}

export type { TransactionEvent };
