import fastifyCookie from '@fastify/cookie';
import fastifyRateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Config } from '../../config';
import { hashToken, type ApiScope, type Credential } from '../../domain/credentials';
import type { Pool } from '../../store/pool';
import { sessionCredential } from '../../store/sessions';
import { ApiError } from '../errors';
import { errorResponse } from '../schemas';
import type { KeyStore } from './keyStore';

/**
 * Who may call a route (docs/decisions/018-api-authentication.md):
 * - `public`: the kubelet's probes (they cannot send credentials) and the live page's static shell;
 * - `authenticated`: any valid credential (the OpenAPI document, 405 answers);
 * - a list of scopes: a credential holding one of them; `session: true` also takes the live
 *   page's sign-in cookie (EventSource cannot send an Authorization header).
 */
export type RouteAccess = 'public' | 'authenticated' | { scopes: ApiScope[]; session?: boolean };

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: RouteAccess;
  }
  interface FastifyRequest {
    credential?: Credential;
  }
}

export const SESSION_COOKIE = 'lf_session';
const REALM = 'Bearer realm="ledgerflow"';

/**
 * The route options of an access rule: the config the hook enforces and the OpenAPI security
 * and error answers it documents, from one declaration.
 */
export interface AccessOptions {
  config: { access: RouteAccess };
  security: Array<Record<string, string[]>>;
  responses: Partial<Record<401 | 403 | 429, ReturnType<typeof errorResponse>>>;
}

export function access(rule: RouteAccess): AccessOptions {
  if (rule === 'public') return { config: { access: rule }, security: [], responses: {} };
  const scopes = rule === 'authenticated' ? [] : rule.scopes;
  const security: Array<Record<string, string[]>> = [{ bearerAuth: scopes }];
  if (typeof rule === 'object' && rule.session) security.push({ sessionCookie: [] });
  return {
    config: { access: rule },
    security,
    responses: {
      401: errorResponse('No credential, or one that is unknown, revoked or expired (WWW-Authenticate says which).'),
      ...(scopes.length > 0 ? { 403: errorResponse(`The credential lacks the ${scopes.join(' or ')} scope.`) } : {}),
      429: errorResponse("Over this credential's rate limit; the Retry-After header says when to try again."),
    },
  };
}

function bearerToken(req: FastifyRequest): string | undefined {
  const header = req.headers.authorization;
  if (header === undefined) return undefined;
  const match = /^Bearer +(\S+) *$/i.exec(header);
  return match ? match[1] : '';
}

/** The credential of the request's bearer token or (where allowed) session cookie; throws 401. */
async function authenticate(req: FastifyRequest, keys: KeyStore, pool: Pool, allowSession: boolean): Promise<Credential> {
  const token = bearerToken(req);
  if (token !== undefined) {
    const credential = token ? keys.verify(token) : null;
    if (!credential) throw new ApiError(401, 'LF_UNAUTHORIZED', 'the bearer token is not a valid credential', { 'www-authenticate': `${REALM}, error="invalid_token"` });
    return credential;
  }
  const cookie = allowSession ? req.cookies[SESSION_COOKIE] : undefined;
  if (cookie) {
    const session = await sessionCredential(pool, hashToken(cookie));
    const credential = session ? keys.current(session.credentialId) : null;
    if (credential) return credential;
    throw new ApiError(401, 'LF_UNAUTHORIZED', 'the session has ended; sign in again', { 'www-authenticate': `${REALM}, error="invalid_token"` });
  }
  throw new ApiError(401, 'LF_UNAUTHORIZED', 'a credential is required: Authorization: Bearer <token>', { 'www-authenticate': REALM });
}

/**
 * Authentication and authorization on every route (onRequest, before the body is read), then a
 * per-credential rate limit (before the body is parsed). Limits are counted per api replica.
 */
export async function registerAuth(app: FastifyInstance, config: Config, keys: KeyStore, pool: Pool): Promise<void> {
  await app.register(fastifyCookie);
  app.addHook('onRequest', async (req) => {
    const rule = req.routeOptions.config.access;
    // A route without a rule is one this module did not see declared: refuse rather than open it.
    if (rule === undefined) {
      if (req.routeOptions.url === undefined) return; // no route at all: the 404 handler answers
      throw new ApiError(500, 'LF_INTERNAL', `route ${req.routeOptions.url} declares no access rule`);
    }
    if (rule === 'public') return;
    const credential = await authenticate(req, keys, pool, typeof rule === 'object' && rule.session === true);
    if (typeof rule === 'object' && !rule.scopes.some((s) => credential.scopes.includes(s))) {
      throw new ApiError(403, 'LF_FORBIDDEN', `credential ${credential.id} lacks the ${rule.scopes.join(' or ')} scope`, {
        'www-authenticate': `${REALM}, error="insufficient_scope", scope="${rule.scopes.join(' ')}"`,
      });
    }
    req.credential = credential;
  });
  await app.register(fastifyRateLimit, {
    global: true,
    hook: 'preParsing',
    timeWindow: 60_000,
    allowList: (req) => req.credential === undefined,
    keyGenerator: (req) => `credential:${req.credential?.id ?? ''}`,
    max: (req) => req.credential?.rateLimitPerMinute ?? config.api.rateLimitPerMinute,
    errorResponseBuilder: (_req, context) => new ApiError(429, 'LF_RATE_LIMITED', `rate limit of ${context.max} requests per minute reached; retry in ${context.after}`),
  });
}
