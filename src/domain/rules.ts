import type { TransactionEvent } from './transaction';

/** Business limits that need no state: they run inside the workflow, so they must stay pure. */
export interface StatelessRules {
  maxAmountMinor: string;
  currencies: string[];
}

/**
 * Why a transaction is stored as rejected. `balance_overflow`: applying it would take a balance past
 * the largest the balance column holds (BALANCE_MAX_MINOR), decided before any write
 * (docs/decisions/020-poison-isolation.md).
 */
export type RejectionReason = 'over_limit' | 'unsupported_currency' | 'self_transfer' | 'insufficient_funds' | 'balance_overflow';

export function checkStatelessRules(tx: TransactionEvent, rules: StatelessRules): RejectionReason | null {
  if (!rules.currencies.includes(tx.currency)) return 'unsupported_currency';
  if (BigInt(tx.amountMinor) > BigInt(rules.maxAmountMinor)) return 'over_limit';
  if (tx.type === 'transfer' && tx.counterparty === tx.account) return 'self_transfer';
  return null;
}
