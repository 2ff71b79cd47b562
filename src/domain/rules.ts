import type { TransactionEvent } from './transaction';

/** Business limits that need no state: they run inside the workflow, so they must stay pure. */
export interface StatelessRules {
  maxAmountMinor: string;
  currencies: string[];
}

export type RejectionReason = 'over_limit' | 'unsupported_currency' | 'self_transfer' | 'insufficient_funds';

export function checkStatelessRules(tx: TransactionEvent, rules: StatelessRules): RejectionReason | null {
  if (!rules.currencies.includes(tx.currency)) return 'unsupported_currency';
  if (BigInt(tx.amountMinor) > BigInt(rules.maxAmountMinor)) return 'over_limit';
  if (tx.type === 'transfer' && tx.counterparty === tx.account) return 'self_transfer';
  return null;
}
