import { createHash } from 'node:crypto';
import type { TransactionBody } from '../domain/transaction';
import { insertClaim, readClaim, takeOverClaim, type ClaimTimes } from '../store/idempotency';
import type { Pool } from '../store/pool';

/**
 * HTTP idempotency (docs/decisions/019-http-idempotency.md, after the IETF Idempotency-Key
 * draft): a key is bound, per client, to the first request's body after normalisation. The same
 * body again gets the first answer; another body gets 422 naming what differs; a request while
 * the first is still in flight gets 409. The binding lives in the database, so every api replica
 * sees it.
 */
export type Claim =
  | { kind: 'owner' }
  | { kind: 'replay'; status: number; body: unknown }
  | { kind: 'conflict'; differences: Difference[] }
  | { kind: 'in_flight' };

export interface Difference {
  field: string;
  first: string | null;
  now: string | null;
}

export interface CanonicalBody {
  text: string;
  fingerprint: string;
}

const FIELDS = ['account', 'type', 'amountMinor', 'currency', 'counterparty', 'occurredAt', 'description'] as const;
/** A 422 lists this many differing fields at most. */
const DIFFERENCES_MAX = 20;

/**
 * The body as the ledger would see it: the schema's normalised items (amounts as strings, instants
 * in UTC) with their fields in one order, an object and a one-item array alike.
 */
export function canonicalBody(items: TransactionBody[]): CanonicalBody {
  const text = JSON.stringify(items.map((item) => FIELDS.map((f) => item[f] ?? null)));
  return { text, fingerprint: createHash('sha256').update(text, 'utf8').digest('hex') };
}

/** Which fields of which items differ between the first body and this one. */
export function differences(firstText: string, nowText: string): Difference[] {
  const first = JSON.parse(firstText) as Array<Array<string | null>>;
  const now = JSON.parse(nowText) as Array<Array<string | null>>;
  const out: Difference[] = [];
  if (first.length !== now.length) out.push({ field: 'items', first: String(first.length), now: String(now.length) });
  for (let i = 0; i < Math.min(first.length, now.length) && out.length < DIFFERENCES_MAX; i++) {
    FIELDS.forEach((name, f) => {
      const [a, b] = [first[i]?.[f] ?? null, now[i]?.[f] ?? null];
      if (a !== b && out.length < DIFFERENCES_MAX) out.push({ field: `[${i}].${name}`, first: a, now: b });
    });
  }
  return out;
}

/**
 * Claims (client, key) for this body. A row that no longer binds (past the retention, failed
 * before an answer, or in flight past its lease because its api died) is taken over by
 * compare-and-set; racing requests retry the read, so each one ends with exactly one verdict.
 */
export async function claimKey(pool: Pool, times: ClaimTimes, clientId: string, key: string, body: CanonicalBody): Promise<Claim> {
  for (let attempt = 0; attempt < 5; attempt++) {
    if (await insertClaim(pool, clientId, key, body.fingerprint, body.text)) return { kind: 'owner' };
    const seen = await readClaim(pool, clientId, key, times);
    if (!seen) continue; // deleted by the retention job in between: insert again
    if (seen.expired) {
      if (await takeOverClaim(pool, clientId, key, seen, body.fingerprint, body.text)) return { kind: 'owner' };
      continue;
    }
    // A failed first request may have reached Kafka after all: its key stays bound to its body.
    if (seen.fingerprint !== body.fingerprint) return { kind: 'conflict', differences: differences(seen.requestBody, body.text) };
    if (seen.state === 'done') return { kind: 'replay', status: seen.responseStatus ?? 202, body: JSON.parse(seen.responseBody ?? '{}') };
    if (seen.state === 'in_flight' && !seen.leaseLapsed) return { kind: 'in_flight' };
    if (await takeOverClaim(pool, clientId, key, seen, body.fingerprint, body.text)) return { kind: 'owner' };
  }
  return { kind: 'in_flight' };
}
