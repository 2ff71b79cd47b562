import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Config } from '../config';
import { LedgerflowError } from '../domain/errors';
import { connectProducerWithTopics, createKafka } from '../kafka/client';
import { createPool, observePool } from '../store/pool';
import { checkDatabase } from '../store/security';
import { ping } from '../store/queries';
import type { Logger } from '../telemetry/log';
import { createMetrics, type Metrics } from '../telemetry/metrics';
import { access, registerAuth } from './auth/authorize';
import { createKeyStore } from './auth/keyStore';
import { registerSession } from './auth/session';
import { registerContract } from './contract';
import { ApiError, describeRequestError, RequestValidationError, sendError } from './errors';
import { registerIngest } from './ingest';
import { registerLive } from './live';
import { registerOperator } from './operator';
import { registerReads } from './reads';
import { startRetention } from './retention';
import { registerReviews } from './reviews';

export interface ApiHandle {
  port: number;
  stop(): Promise<void>;
}

function registerErrorHandling(app: FastifyInstance, config: Config, log: Logger): void {
  app.setErrorHandler((err: Error & { statusCode?: number; validationContext?: string }, _req, reply) => {
    if (err instanceof ApiError) {
      if (err.statusCode >= 500) log.error({ err }, 'request failed');
      return sendError(reply.headers(err.headers), err.statusCode, err.code, err.message);
    }
    if (err instanceof RequestValidationError) {
      const { message, field } = describeRequestError(err, err.validationContext, config.api.ingestBatchMax);
      return sendError(reply, 400, 'LF_INVALID_REQUEST', message, field);
    }
    if (err.statusCode && err.statusCode < 500) return sendError(reply, err.statusCode, 'LF_INVALID_REQUEST', err.message);
    log.error({ err }, 'request failed');
    if (err instanceof LedgerflowError) return sendError(reply, 500, 'LF_INTERNAL', err.message);
    return sendError(reply, 503, 'LF_UNAVAILABLE', 'a dependency is unavailable; retry (with the same Idempotency-Key and body for ingest)');
  });
  app.setNotFoundHandler((req, reply) => sendError(reply, 404, 'LF_NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}`));
}

/**
 * Probes stay open: the kubelet cannot send credentials, and they answer nothing but up or not
 * (the reason a dependency is down goes to the log, not to anonymous callers). Prometheus scrapes
 * /metrics with a credential of scope `metrics`.
 */
function registerOps(app: FastifyInstance, metrics: Metrics, pool: ReturnType<typeof createPool>, log: Logger, isDraining: () => boolean): void {
  const routes = app.withTypeProvider<ZodTypeProvider>();
  const probe = access('public');
  const ready = z.object({ ready: z.boolean(), reason: z.string().optional() });
  routes.get('/healthz', { config: probe.config, schema: { summary: 'Liveness.', tags: ['ops'], security: probe.security, response: { 200: z.object({ status: z.literal('ok') }) } } }, async () => ({
    status: 'ok' as const,
  }));
  routes.get(
    '/readyz',
    { config: probe.config, schema: { summary: 'Readiness: the database answers and the api is not draining.', tags: ['ops'], security: probe.security, response: { 200: ready, 503: ready } } },
    async (_req, reply) => {
      if (isDraining()) return reply.code(503).send({ ready: false, reason: 'draining' });
      try {
        await ping(pool);
        return { ready: true };
      } catch (err) {
        log.warn({ err: (err as Error).message }, 'readiness: database unreachable');
        return reply.code(503).send({ ready: false, reason: 'database unreachable' });
      }
    },
  );
  const scrape = access({ scopes: ['metrics'] });
  routes.get(
    '/metrics',
    {
      config: scrape.config,
      schema: {
        summary: 'Prometheus metrics.',
        tags: ['ops'],
        security: scrape.security,
        response: { 200: { description: 'Prometheus text exposition format.', content: { 'text/plain': { schema: z.string() } } }, ...scrape.responses },
      },
    },
    async (_req, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
  );
}

/** REST API, HTTP ingest, live page, probes and /metrics on one port; every route's access is declared. */
export async function startApi(config: Config, log: Logger): Promise<ApiHandle> {
  const metrics = createMetrics('api');
  const keys = createKeyStore(config, log, () => metrics.apiKeyReloadFailures.inc());
  const pool = createPool(config, 'app');
  await checkDatabase(pool, config, 'app').catch(async (err: unknown) => {
    await pool.end().catch(() => undefined);
    throw err;
  });
  const unobservePool = observePool(pool, metrics, config.db.dialect);
  const kafka = createKafka(config, 'api', log);
  const target = await connectProducerWithTopics(config, kafka, 'transactions');
  let draining = false;

  const app = Fastify({
    loggerInstance: log as unknown as FastifyBaseLogger,
    bodyLimit: 4 << 20,
    logController: new LogController({ disableRequestLogging: true }),
    // Long path parameters reach the route's schema (a 400 in the error shape) instead of the
    // router's own 414; Node's 16 KiB header limit still bounds the URL.
    routerOptions: { maxParamLength: 16_384 },
    // Requests Node's HTTP parser rejects get the project's error shape too, not Fastify's default.
    clientErrorHandler: (err: Error & { code?: string }, socket) => {
      const body = JSON.stringify({ error: { code: 'LF_INVALID_REQUEST', message: `malformed HTTP request (${err.code ?? err.message})` } });
      if (socket.writable) {
        socket.end(`HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
      }
    },
  });
  app.addHook('onResponse', async (req, reply) => {
    metrics.httpServerDuration.observe(
      // No http.route for a request no route matched (the convention): its path is unbounded.
      { http_request_method: req.method, url_scheme: 'http', ...(req.routeOptions.url ? { http_route: req.routeOptions.url } : {}), http_response_status_code: reply.statusCode },
      reply.elapsedTime / 1000,
    );
  });
  registerErrorHandling(app, config, log);
  const contract = await registerContract(app);
  await registerAuth(app, config, keys, pool);
  registerOps(app, metrics, pool, log, () => draining);
  registerSession(app, config, pool);
  registerIngest(app, config, target, pool, metrics, log);
  registerReads(app, config, pool);
  registerOperator(app, config, target, pool, log);
  const reviews = registerReviews(app, config, pool, log);
  registerLive(app, pool, log, config);
  contract.finish();
  const retention = startRetention(config, pool, log);

  await app.listen({ host: config.api.host, port: config.api.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.api.port;
  log.info({ url: `http://${config.api.host}:${port}/` }, 'api listening');
  return {
    port,
    stop: async () => {
      draining = true;
      retention.stop();
      keys.close();
      await app.close();
      await Promise.allSettled([target.producer.disconnect(), reviews.close(), pool.end()]);
      unobservePool();
    },
  };
}
