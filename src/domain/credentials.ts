import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

/**
 * API credentials: bearer tokens `lf_<id>.<secret>` (256 random bits), kept at rest only as their
 * SHA-256 in a key set that names each credential's scopes. A fast hash is the right one here:
 * the secret is random, not a password, so there is nothing to guess and no need for a slow KDF
 * (see docs/decisions/018-api-authentication.md).
 */
export const API_SCOPES = ['ingest', 'read', 'review', 'metrics', 'operator'] as const;
export type ApiScope = (typeof API_SCOPES)[number];

/** What each scope lets a client do; printed by `ledgerflow api-key --help` and in docs/api.md. */
export const SCOPE_DOCS: Record<ApiScope, string> = {
  ingest: 'POST /transactions',
  read: 'ledger reads (transactions, accounts, stats), the live page and its /events feed',
  review: 'the fraud review queue: list, read, approve, reject',
  metrics: 'GET /metrics (Prometheus)',
  operator: 'parked events and id conflicts: read and replay (reserved for those routes)',
};

export const CREDENTIAL_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;
const TOKEN_PATTERN = /^lf_([a-z0-9][a-z0-9-]{0,62})\.([A-Za-z0-9_-]{43})$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;

export const credentialSchema = z
  .object({
    id: z.string().regex(CREDENTIAL_ID_PATTERN, 'must be 1-63 characters of a-z 0-9 -, starting with a letter or digit'),
    scopes: z.array(z.enum(API_SCOPES)).min(1),
    sha256: z.string().regex(SHA256_HEX, 'must be the SHA-256 of the token, 64 lowercase hex digits'),
    /** Requests per minute for this credential; absent: the api's default (api.rateLimitPerMinute). */
    rateLimitPerMinute: z.number().int().positive().optional(),
    /** An optional expiry: after it the credential is refused (ISO 8601). */
    expiresAt: z.iso.datetime({ offset: true }).optional(),
  })
  .strict();
export type Credential = z.infer<typeof credentialSchema>;

export const keySetSchema = z
  .object({ keys: z.array(credentialSchema) })
  .strict()
  .superRefine((set, ctx) => {
    const seen = new Set<string>();
    for (const [i, key] of set.keys.entries()) {
      if (seen.has(key.id)) ctx.addIssue({ code: 'custom', path: ['keys', i, 'id'], message: `duplicate id ${key.id}` });
      seen.add(key.id);
    }
  });
export type KeySet = z.infer<typeof keySetSchema>;

export const hashToken = (token: string): string => createHash('sha256').update(token, 'utf8').digest('hex');

/** A new random token for `id` and the key-set entry that verifies it. */
export function newCredential(id: string, scopes: ApiScope[], extra: { rateLimitPerMinute?: number } = {}): { token: string; credential: Credential } {
  if (!CREDENTIAL_ID_PATTERN.test(id)) throw new Error(`credential id ${JSON.stringify(id)}: must be 1-63 characters of a-z 0-9 -`);
  const token = `lf_${id}.${randomBytes(32).toString('base64url')}`;
  return { token, credential: credentialSchema.parse({ id, scopes, sha256: hashToken(token), ...extra }) };
}

/** The credential a token proves, or null. The stored hash is compared in constant time. */
export function verifyToken(token: string, byId: ReadonlyMap<string, Credential>, nowMs: number): Credential | null {
  const match = TOKEN_PATTERN.exec(token);
  if (!match) return null;
  const credential = byId.get(match[1] as string);
  if (!credential) return null;
  const sent = Buffer.from(hashToken(token), 'hex');
  const stored = Buffer.from(credential.sha256, 'hex');
  if (sent.length !== stored.length || !timingSafeEqual(sent, stored)) return null;
  if (credential.expiresAt !== undefined && Date.parse(credential.expiresAt) <= nowMs) return null;
  return credential;
}

/** Parses a key file's text; throws with the first problem, naming the field. */
export function parseKeySet(text: string): KeySet {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(`not JSON: ${(err as Error).message}`);
  }
  const parsed = keySetSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}`);
  }
  return parsed.data;
}

/** The key set with `credential` added, or replacing the one of the same id (rotation keeps the order). */
export function withCredential(set: KeySet, credential: Credential): KeySet {
  const at = set.keys.findIndex((k) => k.id === credential.id);
  const keys = [...set.keys];
  if (at >= 0) keys[at] = credential;
  else keys.push(credential);
  return { keys };
}

/** The key file's text: one credential per line, so a diff of two versions reads line by line. */
export function renderKeySet(set: KeySet): string {
  return `{"keys": [\n${set.keys.map((k) => `  ${JSON.stringify(k)}`).join(',\n')}\n]}\n`;
}
