import type { Pool } from './pool';

/** Live-page sign-ins: only the SHA-256 of the cookie's token is stored (docs/decisions/018-api-authentication.md). */
export async function createSession(pool: Pool, tokenSha256: string, credentialId: string, ttlS: number): Promise<void> {
  await pool.query('INSERT INTO api_sessions (token_sha256, credential_id, created_at, expires_at) VALUES (?, ?, CURRENT_TIMESTAMP(3), CURRENT_TIMESTAMP(3) + INTERVAL ? SECOND)', [
    tokenSha256,
    credentialId,
    ttlS,
  ]);
}

/** The credential id of a session that has not expired, or null. */
export async function sessionCredential(pool: Pool, tokenSha256: string): Promise<{ credentialId: string; expiresAt: string } | null> {
  const [rows] = await pool.query('SELECT credential_id, expires_at FROM api_sessions WHERE token_sha256 = ? AND expires_at > CURRENT_TIMESTAMP(3)', [tokenSha256]);
  const row = (rows as Array<{ credential_id: string; expires_at: string }>)[0];
  return row ? { credentialId: row.credential_id, expiresAt: row.expires_at } : null;
}

export async function deleteSession(pool: Pool, tokenSha256: string): Promise<void> {
  await pool.query('DELETE FROM api_sessions WHERE token_sha256 = ?', [tokenSha256]);
}

export async function deleteExpiredSessions(pool: Pool, limit: number): Promise<number> {
  const [res] = await pool.query('DELETE FROM api_sessions WHERE expires_at <= CURRENT_TIMESTAMP(3) LIMIT ?', [limit]);
  return (res as { affectedRows: number }).affectedRows;
}
