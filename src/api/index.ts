import Fastify, { type FastifyBaseLogger } from 'fastify';
import type { Config } from '../config';
import { LedgerflowError } from '../domain/errors';
import { connectProducerWithTopics, createKafka } from '../kafka/client';
import { createPool, observePool } from '../store/pool';
import { ping } from '../store/queries';
import type { Logger } from '../telemetry/log';
import { createMetrics } from '../telemetry/metrics';
import { sendError } from './errors';
import { registerIngest } from './ingest';
import { registerLive } from './live';
import { openApiDocument } from './openapi';
import { registerReads } from './reads';
import { registerReviews } from './reviews';

export interface ApiHandle {
  port: number;
  stop(): Promise<void>;
}

/** REST API, HTTP ingest, live page, probes and /metrics on one port. */
export async function startApi(config: Config, log: Logger): Promise<ApiHandle> {
  const metrics = createMetrics('api');
  const pool = createPool(config, 'app');
  const unobservePool = observePool(pool, metrics, config.db.dialect);
  const kafka = createKafka(config, 'api', log);
  const target = await connectProducerWithTopics(config, kafka);
  let draining = false;

  const app = Fastify({
    loggerInstance: log as unknown as FastifyBaseLogger,
    bodyLimit: 4 << 20,
    disableRequestLogging: true,
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
  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, _req, reply) => {
    if (err.statusCode && err.statusCode < 500) {
      return sendError(reply, err.statusCode, 'LF_INVALID_REQUEST', err.message);
    }
    log.error({ err }, 'request failed');
    if (err instanceof LedgerflowError) return sendError(reply, 500, 'LF_INTERNAL', err.message);
    return sendError(reply, 503, 'LF_UNAVAILABLE', 'a dependency is unavailable; retry with the same Idempotency-Key');
  });
  app.setNotFoundHandler((req, reply) => sendError(reply, 404, 'LF_NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}`));

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    if (draining) return reply.code(503).send({ ready: false, reason: 'draining' });
    try {
      await ping(pool);
      return { ready: true };
    } catch (err) {
      return reply.code(503).send({ ready: false, reason: `database: ${(err as Error).message}` });
    }
  });
  app.get('/metrics', async (_req, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()));
  app.get('/openapi.json', async () => openApiDocument());
  registerIngest(app, config, target, metrics);
  registerReads(app, config, pool);
  const reviews = registerReviews(app, config, pool);
  registerLive(app, pool, log, config);

  await app.listen({ host: config.api.host, port: config.api.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.api.port;
  log.info({ url: `http://${config.api.host}:${port}/` }, 'api listening');
  return {
    port,
    stop: async () => {
      draining = true;
      await app.close();
      await Promise.allSettled([target.producer.disconnect(), reviews.close(), pool.end()]);
      unobservePool();
    },
  };
}
