import { v5 as uuidv5, v7 as uuidv7 } from 'uuid';

/** Namespace of ids derived from HTTP Idempotency-Keys (fixed forever: changing it breaks dedupe). */
const IDEMPOTENCY_NAMESPACE = '6f3f7a1e-3c1b-4f5e-9a57-8d2a0c4b9e11';

/** Time-ordered ids keep unique-index inserts append-mostly. */
export function newTransactionId(): string {
  return uuidv7();
}

/**
 * The same client, key and item index of a batch body always yield the same transaction id. Keys
 * are scoped to the authenticated client: two clients that pick the same key get different ids.
 */
export function transactionIdFromKey(clientId: string, idempotencyKey: string, index: number): string {
  return uuidv5(`${clientId}\u0000${idempotencyKey}\u0000${index}`, IDEMPOTENCY_NAMESPACE);
}

/** Deterministic workflow id of a batch: a restart re-derives the same id for the same first offset. */
export function batchWorkflowId(topic: string, partition: number, firstOffset: string): string {
  return `tx-${topic}-${partition}-${firstOffset}`;
}
