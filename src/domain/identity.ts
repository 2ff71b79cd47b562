import type { TransactionEvent } from './transaction';

/**
 * One definition of "the same transaction" (docs/decisions/021-one-id-one-payment.md): two events
 * with one id are the same transaction when every one of these fields is equal (the id aside);
 * otherwise they are a conflict. Both stores, the apply path and `verify` compare with it.
 */
export const CONTENT_FIELDS = ['account', 'type', 'amountMinor', 'currency', 'counterparty', 'occurredAt', 'description'] as const;
export type ContentField = (typeof CONTENT_FIELDS)[number];

/** An event's content as the comparison sees it: every field, absent ones as null, amounts as strings. */
export type Content = Record<ContentField, string | null>;

export function contentOf(event: Pick<TransactionEvent, ContentField>): Content {
  return {
    account: event.account,
    type: event.type,
    amountMinor: String(event.amountMinor),
    currency: event.currency,
    counterparty: event.counterparty ?? null,
    occurredAt: event.occurredAt,
    description: event.description ?? null,
  };
}

/** The fields in which two contents differ, in CONTENT_FIELDS order (empty: the same transaction). */
export function differingFields(a: Content, b: Content): ContentField[] {
  return CONTENT_FIELDS.filter((f) => a[f] !== b[f]);
}

/** The content as JSON with its fields in CONTENT_FIELDS order: equal contents give equal text. */
export function canonicalContent(content: Content): string {
  return JSON.stringify(Object.fromEntries(CONTENT_FIELDS.map((f) => [f, content[f]])));
}

/** Where an event sits in the topic. */
export interface Position {
  partition: number;
  offset: string;
}

/**
 * The order that decides which variant of an id is stored: the lowest partition, then the lowest
 * offset. On one key (one partition) it is the offset order, the order the partition is applied
 * in; across partitions it depends only on the topic, never on which partition was applied first,
 * so replaying the same topic into an empty store stores the same variants.
 */
export function comparePositions(a: Position, b: Position): number {
  if (a.partition !== b.partition) return a.partition - b.partition;
  const x = BigInt(a.offset);
  const y = BigInt(b.offset);
  return x < y ? -1 : x > y ? 1 : 0;
}
