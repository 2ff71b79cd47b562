import type { Pool } from './pool';

/**
 * HTTP Idempotency-Keys, shared by every api replica through the database
 * (docs/decisions/019-http-idempotency.md). A key is claimed by inserting its row in state
 * `in_flight`; the primary key (client, key) makes exactly one concurrent request the owner.
 */
export type IdempotencyState = 'in_flight' | 'done' | 'failed';

export interface IdempotencyRecord {
  fingerprint: string;
  requestBody: string;
  state: IdempotencyState;
  responseStatus: number | null;
  responseBody: string | null;
  /** Older than the retention: the row no longer binds the key. */
  expired: boolean;
  /** An in-flight claim whose owner stopped updating it for longer than the lease (it died). */
  leaseLapsed: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface ClaimTimes {
  retentionS: number;
  leaseMs: number;
}

const ER_DUP_ENTRY = 1062;

/** Inserts an in-flight claim; false when the (client, key) row exists already. */
export async function insertClaim(pool: Pool, clientId: string, key: string, fingerprint: string, requestBody: string): Promise<boolean> {
  try {
    await pool.query(
      "INSERT INTO idempotency_keys (client_id, idem_key, fingerprint, request_body, state, created_at, updated_at) VALUES (?, ?, ?, ?, 'in_flight', CURRENT_TIMESTAMP(3), CURRENT_TIMESTAMP(3))",
      [clientId, key, fingerprint, requestBody],
    );
    return true;
  } catch (err) {
    if ((err as { errno?: number }).errno === ER_DUP_ENTRY) return false;
    throw err;
  }
}

interface DbRecord {
  fingerprint: string;
  request_body: string;
  state: IdempotencyState;
  response_status: number | null;
  response_body: string | null;
  expired: number | string;
  lease_lapsed: number | string;
  created_at: string;
  updated_at: string;
}

/** The row of (client, key) with its age judged by the database clock (one clock for all replicas). */
export async function readClaim(pool: Pool, clientId: string, key: string, times: ClaimTimes): Promise<IdempotencyRecord | null> {
  const [rows] = await pool.query(
    `SELECT fingerprint, request_body, state, response_status, response_body, created_at, updated_at,
            created_at < CURRENT_TIMESTAMP(3) - INTERVAL ? SECOND AS expired,
            updated_at < CURRENT_TIMESTAMP(3) - INTERVAL ? MICROSECOND AS lease_lapsed
       FROM idempotency_keys WHERE client_id = ? AND idem_key = ?`,
    [times.retentionS, times.leaseMs * 1000, clientId, key],
  );
  const row = (rows as DbRecord[])[0];
  if (!row) return null;
  return {
    fingerprint: row.fingerprint,
    requestBody: row.request_body,
    state: row.state,
    responseStatus: row.response_status === null ? null : Number(row.response_status),
    responseBody: row.response_body,
    expired: Number(row.expired) === 1,
    leaseLapsed: Number(row.lease_lapsed) === 1,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/**
 * Takes over a row that no longer binds its owner (expired, failed, or an in-flight claim whose
 * lease lapsed): a compare-and-set on the row's updated_at, so of several racing requests one wins.
 */
export async function takeOverClaim(pool: Pool, clientId: string, key: string, seen: IdempotencyRecord, fingerprint: string, requestBody: string): Promise<boolean> {
  const [res] = await pool.query(
    `UPDATE idempotency_keys
        SET fingerprint = ?, request_body = ?, state = 'in_flight', response_status = NULL, response_body = NULL,
            created_at = IF(?, CURRENT_TIMESTAMP(3), created_at), updated_at = CURRENT_TIMESTAMP(3)
      WHERE client_id = ? AND idem_key = ? AND updated_at = ? AND state = ?`,
    [fingerprint, requestBody, seen.expired, clientId, key, seen.updatedAt, seen.state],
  );
  return (res as { affectedRows: number }).affectedRows === 1;
}

/** Records the answer of an owned claim (`done`) or that it failed before an answer (`failed`). */
export async function finishClaim(pool: Pool, clientId: string, key: string, outcome: { state: 'done'; status: number; body: string } | { state: 'failed' }): Promise<void> {
  const [status, body] = outcome.state === 'done' ? [outcome.status, outcome.body] : [null, null];
  await pool.query(
    "UPDATE idempotency_keys SET state = ?, response_status = ?, response_body = ?, updated_at = CURRENT_TIMESTAMP(3) WHERE client_id = ? AND idem_key = ? AND state = 'in_flight'",
    [outcome.state, status, body, clientId, key],
  );
}

/** Deletes up to `limit` rows older than the retention; returns how many went. */
export async function deleteExpiredClaims(pool: Pool, retentionS: number, limit: number): Promise<number> {
  const [res] = await pool.query('DELETE FROM idempotency_keys WHERE created_at < CURRENT_TIMESTAMP(3) - INTERVAL ? SECOND LIMIT ?', [retentionS, limit]);
  return (res as { affectedRows: number }).affectedRows;
}
