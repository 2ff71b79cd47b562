import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Config } from '../config';
import type { TopicProducer } from '../kafka/client';
import { replayParked } from '../ops/parked';
import { conflictId, listConflicts } from '../store/conflicts';
import { getParked, listParked, parkedId, parseParkedId } from '../store/parked';
import type { Pool } from '../store/pool';
import type { Logger } from '../telemetry/log';
import { access } from './auth/authorize';
import { sendError } from './errors';
import { conflictCursorSchema, conflictPageSchema, decodeCursor, encodeCursor, errorResponse, limitSchema, parkedCursorSchema, parkedIdSchema, parkedPageSchema } from './schemas';

const replayAcceptedSchema = z.object({
  id: z.string(),
  txId: z.string(),
  replayedTo: z.object({ topic: z.string(), partition: z.number().int() }),
  replayCount: z.number().int().meta({ description: 'Replays sent so far, this one included.' }),
  alreadyStored: z.boolean().meta({ description: 'The id was stored before this replay: it changes nothing (the id decides).' }),
});

/**
 * What `ledgerflow parked` and `ledgerflow conflicts` show, over HTTP for operators (scope
 * `operator`): parked events (docs/decisions/020-poison-isolation.md) and their replay through
 * the CLI's own code, and id conflicts (docs/decisions/021-one-id-one-payment.md).
 */
export function registerOperator(app: FastifyInstance, config: Config, target: TopicProducer, pool: Pool, log: Logger): void {
  const routes = app.withTypeProvider<ZodTypeProvider>();
  const rule = access({ scopes: ['operator'] });
  const schema = { tags: ['operator'], security: rule.security };
  const topic = config.kafka.topic;

  routes.get('/parked', {
    config: rule.config,
    schema: {
      ...schema,
      summary: 'Parked events (refused by the store, isolated from their batch), oldest first, keyset-paged; unresolved only unless state=all.',
      querystring: z.object({
        state: z.enum(['unresolved', 'all']).default('unresolved').meta({ description: 'unresolved: the id is not stored yet (what still needs an operator).' }),
        partition: z.string().regex(/^[0-9]{1,9}$/, 'must be a partition number').optional().meta({ description: 'Only events parked from this partition.' }),
        limit: limitSchema(config.api.pageSizeMax),
        cursor: parkedCursorSchema.optional(),
      }),
      response: { 200: parkedPageSchema, 400: errorResponse('Bad state, partition, limit or cursor.'), ...rule.responses },
    },
    handler: async (req) => {
      const after = req.query.cursor === undefined ? undefined : (({ at, id }) => ({ parkedAt: at, ...(parseParkedId(id) as { partition: number; offset: string }) }))(decodeCursor(req.query.cursor));
      const page = await listParked(pool, topic, {
        limit: req.query.limit,
        unresolved: req.query.state === 'unresolved',
        ...(req.query.partition === undefined ? {} : { partition: Number(req.query.partition) }),
        ...(after ? { after } : {}),
      });
      return { items: page.items, nextCursor: page.next ? encodeCursor(page.next.parkedAt, parkedId(page.next.partition, page.next.offset)) : null };
    },
  });

  routes.post('/parked/:id/replay', {
    config: rule.config,
    schema: {
      ...schema,
      summary: 'Send a parked message again (same key and bytes) once its cause is fixed: applied once however often it is replayed (its id decides), parked again if the store still refuses it.',
      params: z.object({ id: parkedIdSchema }),
      response: { 202: replayAcceptedSchema.meta({ description: 'Sent to the topic; the pipeline applies it.' }), 400: errorResponse('Bad id.'), ...rule.responses, 404: errorResponse('No parked event with this id.') },
    },
    handler: async (req, reply) => {
      const source = parseParkedId(req.params.id) as { partition: number; offset: string };
      const parked = await getParked(pool, topic, source.partition, source.offset);
      if (!parked) return sendError(reply, 404, 'LF_NOT_FOUND', `no parked event ${req.params.id} on topic ${topic}`);
      const { partition } = await replayParked(config, target, pool, parked);
      log.info({ parked: parked.id, txId: parked.txId, partition, alreadyStored: parked.resolved, credential: req.credential?.id }, 'parked event replayed');
      return reply.code(202).send({ id: parked.id, txId: parked.txId, replayedTo: { topic, partition }, replayCount: parked.replayCount + 1, alreadyStored: parked.resolved });
    },
  });

  routes.get('/conflicts', {
    config: rule.config,
    schema: {
      ...schema,
      summary: 'Transaction ids stored with other content (the losing variants), oldest first, keyset-paged.',
      querystring: z.object({ limit: limitSchema(config.api.pageSizeMax), cursor: conflictCursorSchema.optional() }),
      response: { 200: conflictPageSchema, 400: errorResponse('Bad limit or cursor.'), ...rule.responses },
    },
    handler: async (req) => {
      const after = req.query.cursor === undefined ? undefined : conflictCursor(decodeCursor(req.query.cursor));
      const page = await listConflicts(pool, topic, { limit: req.query.limit, ...(after ? { after } : {}) });
      return { items: page.items, nextCursor: page.next ? encodeCursor(page.next.recordedAt, conflictId(page.next.txId, page.next.partition, page.next.offset)) : null };
    },
  });
}

/** `<txId>@<partition>:<offset>` (the pattern of conflictCursorSchema) → the keyset position. */
function conflictCursor({ at, id }: { at: string; id: string }) {
  const [txId, source] = id.split('@') as [string, string];
  return { recordedAt: at, txId, ...(parseParkedId(source) as { partition: number; offset: string }) };
}
