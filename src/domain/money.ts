import { LedgerflowError } from './errors';

/**
 * Money is always an integer count of minor units (cents). On the wire and in workflow payloads it
 * is a decimal string (JSON numbers above 2^53 silently lose digits); in arithmetic it is a bigint.
 */
export const MINOR_UNITS_PATTERN = /^(0|[1-9][0-9]{0,17})$/;
/** Largest amount a BIGINT column holds. */
export const MINOR_UNITS_MAX = 9_223_372_036_854_775_807n;
/**
 * Largest balance an account may hold: `balances.balance_minor` is a BIGINT. A credit or transfer
 * that would take a balance past it is rejected (`balance_overflow`), never sent to the store.
 */
export const BALANCE_MAX_MINOR = MINOR_UNITS_MAX;

export function parseMinor(value: string): bigint {
  if (!MINOR_UNITS_PATTERN.test(value)) {
    throw new LedgerflowError('LF_INVALID_EVENT', `not a whole number of minor units: ${JSON.stringify(value)}`, value);
  }
  const minor = BigInt(value);
  if (minor > MINOR_UNITS_MAX) throw new LedgerflowError('LF_INVALID_EVENT', 'amount overflows 64 bits', value);
  return minor;
}

/** Renders minor units as a decimal amount with `exponent` fraction digits (2 for EUR/USD). */
export function formatMinor(minor: bigint, exponent = 2): string {
  const negative = minor < 0n;
  const digits = (negative ? -minor : minor).toString().padStart(exponent + 1, '0');
  const whole = digits.slice(0, digits.length - exponent);
  const fraction = exponent > 0 ? `.${digits.slice(digits.length - exponent)}` : '';
  return `${negative ? '-' : ''}${whole}${fraction}`;
}
