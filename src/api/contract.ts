import fastifySwagger from '@fastify/swagger';
import type { FastifyInstance, HTTPMethods } from 'fastify';
import { jsonSchemaTransform, jsonSchemaTransformObject, serializerCompiler } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { SCOPE_DOCS } from '../domain/credentials';
import { transactionBodySchema } from '../domain/transaction';
import { access, SESSION_COOKIE, type RouteAccess } from './auth/authorize';
import { sendError, validatorCompiler } from './errors';

/**
 * One source for the API contract: routes declare zod schemas (the domain's own for request
 * bodies); the validator, the serializer and the OpenAPI 3.1 document at /openapi.json
 * (@fastify/swagger with fastify-type-provider-zod) all come from those declarations.
 */
export async function registerContract(app: FastifyInstance): Promise<{ finish(): void }> {
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  if (!z.globalRegistry.has(transactionBodySchema)) z.globalRegistry.add(transactionBodySchema, { id: 'TransactionBody' });
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Ledgerflow API',
        version: '0.2.0',
        description: 'Ingest and read transactions; amounts are integer minor units. Every route but the probes and the live page shell needs a credential (docs/api.md).',
      },
      components: {
        securitySchemes: {
          bearerAuth: {
            type: 'http',
            scheme: 'bearer',
            description: `A credential \`lf_<id>.<secret>\`; the operation's scopes are the ones it accepts: ${Object.entries(SCOPE_DOCS)
              .map(([scope, what]) => `${scope} (${what})`)
              .join('; ')}.`,
          },
          sessionCookie: { type: 'apiKey', in: 'cookie', name: SESSION_COOKIE, description: 'The live page sign-in (POST /session).' },
        },
      },
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });

  // Every method each path answers, to say 405 (with Allow) for the others instead of 404.
  const paths = new Map<string, { methods: Set<string>; open: boolean }>();
  app.addHook('onRoute', (route) => {
    const entry = paths.get(route.url) ?? { methods: new Set<string>(), open: false };
    for (const method of [route.method].flat()) entry.methods.add(method.toUpperCase());
    entry.open ||= route.config?.access === 'public';
    paths.set(route.url, entry);
  });

  const openApi = access('authenticated');
  app.get('/openapi.json', { config: openApi.config, schema: { hide: true } }, async () => app.swagger());

  return {
    /** Call after every route is registered: adds the 405 answers. */
    finish: () => {
      for (const [url, { methods, open }] of [...paths]) {
        const others = app.supportedMethods.filter((m) => !methods.has(m)) as HTTPMethods[];
        if (others.length === 0) continue;
        const allow = [...methods].sort().join(', ');
        const rule: RouteAccess = open ? 'public' : 'authenticated';
        app.route({
          method: others,
          url,
          config: { access: rule },
          schema: { hide: true },
          // Answered in onRequest (after authentication), before any body is read or parsed.
          onRequest: async (_req, reply) => sendError(reply.header('allow', allow), 405, 'LF_METHOD_NOT_ALLOWED', `${url} answers ${allow} only`),
          handler: async (_req, reply) => reply,
        });
      }
    },
  };
}
