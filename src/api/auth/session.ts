import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Config } from '../../config';
import { API_SCOPES, hashToken } from '../../domain/credentials';
import type { Pool } from '../../store/pool';
import { createSession, deleteSession } from '../../store/sessions';
import { access, SESSION_COOKIE } from './authorize';

const sessionSchema = z.object({
  credential: z.string().meta({ description: 'Id of the credential the session acts as.' }),
  scopes: z.array(z.enum(API_SCOPES)),
});

/**
 * Sign-in for the live page. EventSource cannot send an Authorization header, so a viewer signs
 * in once with a credential (POST /session with the bearer token) and gets an HttpOnly,
 * SameSite=Strict cookie that GET /events accepts. The cookie holds a random token; the database
 * keeps only its SHA-256 with the credential id, so revoking the credential ends its sessions and
 * any replica can check one. Sign-in takes the token in a header, which a cross-site form cannot
 * send: no login CSRF.
 */
export function registerSession(app: FastifyInstance, config: Config, pool: Pool): void {
  const routes = app.withTypeProvider<ZodTypeProvider>();
  const signIn = access({ scopes: ['read'] });
  routes.post('/session', {
    config: signIn.config,
    schema: {
      summary: 'Sign in to the live page: sets the session cookie that GET /events accepts.',
      tags: ['live'],
      security: signIn.security,
      response: { 200: sessionSchema, ...signIn.responses },
    },
    handler: async (req, reply) => {
      const credential = req.credential!;
      const token = randomBytes(32).toString('base64url');
      await createSession(pool, hashToken(token), credential.id, config.api.sessionTtlS);
      reply.setCookie(SESSION_COOKIE, token, { httpOnly: true, sameSite: 'strict', secure: config.api.sessionCookieSecure, path: '/', maxAge: config.api.sessionTtlS });
      return { credential: credential.id, scopes: credential.scopes };
    },
  });

  const who = access({ scopes: ['read'], session: true });
  routes.get('/session', {
    config: who.config,
    schema: { summary: 'The credential this request (bearer token or session cookie) acts as.', tags: ['live'], security: who.security, response: { 200: sessionSchema, ...who.responses } },
    handler: async (req) => ({ credential: req.credential!.id, scopes: req.credential!.scopes }),
  });

  const signOut = access('public');
  routes.delete('/session', {
    config: signOut.config,
    schema: { summary: 'Sign out: ends the session of the cookie sent, if any, and clears it.', tags: ['live'], security: signOut.security, response: { 204: z.undefined() } },
    handler: async (req, reply) => {
      const cookie = req.cookies[SESSION_COOKIE];
      if (cookie) await deleteSession(pool, hashToken(cookie));
      reply.clearCookie(SESSION_COOKIE, { path: '/', httpOnly: true, sameSite: 'strict', secure: config.api.sessionCookieSecure });
      return reply.code(204).send();
    },
  });
}
