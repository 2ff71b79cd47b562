import type { FastifyInstance } from 'fastify';
import fs from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import type { Config } from '../config';
import { createKafka } from '../kafka/client';
import type { Pool } from '../store/pool';
import type { Logger } from '../telemetry/log';
import { LIVE_PAGE_HTML } from './assets/livePage';
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

  app.get('/', async (_req, reply) => reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(LIVE_PAGE_HTML));

  const assetCache = new Map<string, Buffer>();
  app.get<{ Params: { name: string } }>('/assets/:name', async (req, reply) => {
    const asset = ASSETS[req.params.name];
    if (!asset) return reply.callNotFound();
    let body = assetCache.get(req.params.name);
    if (!body) {
      body = await fs.readFile(require.resolve(asset.module));
      assetCache.set(req.params.name, body);
    }
    return reply.type(asset.type).header('cache-control', 'public, max-age=3600').send(body);
  });

  app.get('/events', (req, reply) => {
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
