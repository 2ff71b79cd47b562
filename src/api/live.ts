import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import fs from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import type { Config } from '../config';
import { createKafka } from '../kafka/client';
import type { Pool } from '../store/pool';
import type { Logger } from '../telemetry/log';
import { LIVE_PAGE_HTML } from './assets/livePage';
import { access } from './auth/authorize';
import { createLiveFeed, type LiveKafkaSource } from './liveFeed';

/** A client that stops reading is dropped once this much is queued for it, not buffered forever. */
const CLIENT_BUFFER_MAX_BYTES = 1 << 20;

/** The charting library, served from node_modules: the page loads nothing from outside the api. */
const ASSETS: Record<string, { module: string; type: string }> = {
  'uPlot.iife.min.js': { module: 'uplot/dist/uPlot.iife.min.js', type: 'text/javascript; charset=utf-8' },
  'uPlot.min.css': { module: 'uplot/dist/uPlot.min.css', type: 'text/css; charset=utf-8' },
};

/**
 * Built-in live page (`/`) and its server-sent events (`/events`): totals, stored tx/s, latency,
 * recent transactions, consumer lag and DLQ count, pushed twice a second from one shared feed.
 */
export function registerLive(app: FastifyInstance, pool: Pool, log: Logger, config: Config): void {
  const kafkaSource: LiveKafkaSource = {
    kafka: createKafka(config, 'api-live', log),
    topic: config.kafka.topic,
    dlqTopic: config.kafka.dlqTopic,
    groupId: config.kafka.groupId,
  };
  const feed = createLiveFeed(pool, log, kafkaSource);
  const streams = new Set<ServerResponse>();

  // The page and its charting library hold no data: anyone may load them; the data needs a sign-in.
  const shell = access('public');
  const page = { config: shell.config, schema: { hide: true } };
  app.get('/', page, async (_req, reply) => reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(LIVE_PAGE_HTML));

  const assetCache = new Map<string, Buffer>();
  app.get<{ Params: { name: string } }>('/assets/:name', page, async (req, reply) => {
    const asset = ASSETS[req.params.name];
    if (!asset) return reply.callNotFound();
    let body = assetCache.get(req.params.name);
    if (!body) {
      body = await fs.readFile(require.resolve(asset.module));
      assetCache.set(req.params.name, body);
    }
    return reply.type(asset.type).header('cache-control', 'public, max-age=3600').send(body);
  });

  const feedRule = access({ scopes: ['read'], session: true });
  const sseEvent = z.object({
    event: z.enum(['summary', 'history']),
    data: z.string().meta({ description: "JSON: a summary (totals, tx/s, latency, recent rows, lag, DLQ; a failed source is null with its reason in errors) or the charts' history." }),
  });
  const feedSchema = {
    summary: 'Server-sent events: a summary twice a second (the live page feed). Takes the session cookie of POST /session too.',
    tags: ['live'],
    security: feedRule.security,
    response: {
      200: { description: 'An endless text/event-stream of `summary` and `history` events.', content: { 'text/event-stream': { schema: sseEvent } } },
      ...feedRule.responses,
    },
  };
  app.get('/events', { config: feedRule.config, schema: feedSchema }, (req, reply) => {
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    streams.add(res);
    const unsubscribe = feed.subscribe((frame) => {
      if (res.writableLength > CLIENT_BUFFER_MAX_BYTES) {
        log.warn({ queuedBytes: res.writableLength }, 'live client not reading; dropping it');
        res.destroy();
        return;
      }
      res.write(frame);
    });
    res.on('close', () => {
      streams.delete(res);
      unsubscribe();
    });
    req.raw.on('error', () => res.destroy());
  });

  // Open event streams would keep server.close() waiting for ever: end them before it runs.
  app.addHook('preClose', async () => {
    for (const res of streams) res.end();
  });
  app.addHook('onClose', async () => {
    await feed.close();
  });
}
