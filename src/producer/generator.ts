import { createRandom } from '../domain/random';
import type { TransactionEvent } from '../domain/transaction';
import { createTraffic, type FraudPattern, type TrafficOptions } from './traffic';

export { accountName } from './population';

/** The default traffic's injected fraud share: about one transaction in seventy. */
export const DEFAULT_FRAUD_RATE = 0.015;

export interface GeneratorOptions extends Omit<TrafficOptions, 'fraudRate'> {
  /** Share of events that are deliberately malformed (0..1). */
  malformedRatio: number;
  /** Injected fraud share (default DEFAULT_FRAUD_RATE). */
  fraudRate?: number;
}

export interface GeneratedMessage {
  /** Partition key: the account, or a fixed key for malformed payloads without one. */
  key: string;
  value: Buffer;
  /** The event when well-formed; absent for a malformed one. */
  event?: TransactionEvent;
  malformedKind?: string;
  /** The fraud pattern this well-formed event belongs to (never sent: the producer records it apart). */
  label?: FraudPattern;
}

const MALFORMED_KINDS: ReadonlyArray<(base: TransactionEvent) => string> = [
  (b) => JSON.stringify(b).slice(0, 20), // truncated JSON
  (b) => JSON.stringify({ ...b, amountMinor: `-${b.amountMinor}` }),
  (b) => JSON.stringify({ ...b, type: 'refund' }),
  (b) => {
    const { account: _dropped, ...rest } = b;
    return JSON.stringify(rest);
  },
  (b) => JSON.stringify({ ...b, amountMinor: '12.50' }),
  (b) => JSON.stringify({ ...b, currency: 'euro' }),
  (b) => JSON.stringify({ ...b, occurredAt: 'yesterday' }),
  (b) => JSON.stringify({ ...b, amountMinor: 1e300 }),
];
export const MALFORMED_KIND_NAMES = [
  'truncated_json',
  'negative_amount',
  'unknown_type',
  'missing_account',
  'fractional_amount',
  'bad_currency',
  'bad_timestamp',
  'overflowing_amount',
];

/**
 * The well-formed events createGenerator yields (same seed, same sequence), without encoding them
 * as Kafka values: for bulk loads, which never send them. `occurredAt` replaces the event time.
 */
export function createEventGenerator(options: Omit<GeneratorOptions, 'malformedRatio'> & { occurredAt?: () => string }): () => TransactionEvent {
  const next = createTraffic({ ...options, fraudRate: options.fraudRate ?? DEFAULT_FRAUD_RATE });
  const at = options.occurredAt;
  return () => {
    const { event } = next();
    if (at) event.occurredAt = at();
    return event;
  };
}

/**
 * The producer's traffic as Kafka messages (the model: traffic.ts), with a share of deliberately
 * malformed ones. Malformed messages are drawn from a stream of their own, so the well-formed
 * sequence of a seed is the same whatever the malformed share. Ids are assigned here, before Kafka.
 */
export function createGenerator(options: GeneratorOptions): () => GeneratedMessage {
  const next = createTraffic({ ...options, fraudRate: options.fraudRate ?? DEFAULT_FRAUD_RATE });
  const random = createRandom((options.seed ^ 0x6d616c66) >>> 0);
  return () => {
    const { event, label } = next();
    const account = event.account;
    if (options.malformedRatio > 0 && random() < options.malformedRatio) {
      const kind = Math.floor(random() * MALFORMED_KINDS.length);
      const value = (MALFORMED_KINDS[kind] as (b: TransactionEvent) => string)(event);
      return { key: account, value: Buffer.from(value), malformedKind: MALFORMED_KIND_NAMES[kind] as string };
    }
    const value = Buffer.from(JSON.stringify(event));
    return label ? { key: account, value, event, label } : { key: account, value, event };
  };
}
