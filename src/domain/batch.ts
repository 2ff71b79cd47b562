import { invariant } from './errors';
import { checkStatelessRules, type RejectionReason, type StatelessRules } from './rules';
import type { SourcedEvent } from './transaction';

/**
 * A batch's events must be in their partitions' offset order (the consumer builds them so; the
 * commit after the batch relies on it), and each event's partition one of the batch's parts.
 * Then the stateless rules, keyed by id: only the first occurrence of an id decides, so a later
 * copy with other content (same Idempotency-Key reused) cannot reject the one that is stored.
 */
export function validateBatch(partitions: ReadonlyArray<number>, events: ReadonlyArray<SourcedEvent>, rules: StatelessRules): Record<string, RejectionReason> {
  const previous = new Map<number, bigint>(partitions.map((p) => [p, -1n]));
  for (const event of events) {
    const offset = BigInt(event.offset);
    const before = previous.get(event.partition);
    invariant(before !== undefined && offset > before, "batch events must be in their partition's offset order", event.offset);
    previous.set(event.partition, offset);
  }
  const rejections: Record<string, RejectionReason> = {};
  const seen = new Set<string>();
  for (const event of events) {
    if (seen.has(event.id)) continue;
    seen.add(event.id);
    const reason = checkStatelessRules(event, rules);
    if (reason !== null) rejections[event.id] = reason;
  }
  return rejections;
}
