import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Config } from '../config';
import type { Pool } from '../store/pool';
import { auditTrail, getReview, listReviews } from '../store/reviews';
import { dataConverter } from '../temporal/codec';
import { temporalConnectionOptions } from '../temporal/connection';
import type { Logger } from '../telemetry/log';
import { access } from './auth/authorize';
import { sendError } from './errors';
import {
  cursorSchema,
  decodeCursor,
  encodeCursor,
  errorResponse,
  limitSchema,
  REVIEW_STATUSES,
  reviewDecisionSchema,
  reviewPageSchema,
  reviewWithAuditSchema,
  transactionIdSchema,
} from './schemas';

const decisionAcceptedSchema = z.object({ txId: z.string(), decision: z.enum(['approve', 'reject']), accepted: z.literal(true) });

/**
 * The fraud review queue over HTTP, scope `review` (reviewers read their queue and decide). A
 * decision names the reviewer and a reason; the reviewTransaction workflow receives it as a
 * signal and its activity records status, audit row and any reversal in one database transaction.
 */
export function registerReviews(app: FastifyInstance, config: Config, pool: Pool, log: Logger): { close(): Promise<void> } {
  let temporal: Promise<{ connection: Connection; client: Client }> | undefined;
  const client = async () => {
    temporal ??= Connection.connect(temporalConnectionOptions(config)).then((connection) => ({ connection, client: new Client({ connection, namespace: config.temporal.namespace, dataConverter: dataConverter() }) }));
    return (await temporal).client;
  };
  const routes = app.withTypeProvider<ZodTypeProvider>();
  const rule = access({ scopes: ['review'] });
  const schema = { tags: ['reviews'], security: rule.security };

  for (const action of ['approve', 'reject'] as const) {
    routes.post(`/reviews/:id/${action}`, {
      config: rule.config,
      schema: {
        ...schema,
        summary:
          action === 'approve'
            ? 'Approve a held transaction (it stays applied).'
            : 'Reject a held transaction as fraud: its balance effect is reversed exactly once and its vector joins the fraud set.',
        params: z.object({ id: transactionIdSchema }),
        body: reviewDecisionSchema,
        response: {
          202: decisionAcceptedSchema.meta({ description: 'Decision handed to the review workflow (audited when recorded).' }),
          400: errorResponse('Bad id or body.'),
          ...rule.responses,
          404: errorResponse('No review for this transaction.'),
          409: errorResponse('Already decided.'),
        },
      },
      handler: async (req, reply) => {
        const { id } = req.params;
        const review = await getReview(pool, id);
        if (!review) return sendError(reply, 404, 'LF_NOT_FOUND', `no review for transaction ${id}`);
        if (review.status === 'approved' || review.status === 'rejected') {
          return sendError(reply, 409, 'LF_CONFLICT', `review already ${review.status} by ${review.decidedBy ?? 'unknown'}`);
        }
        const decision = { actor: req.body.reviewer.trim(), reason: req.body.reason.trim() };
        try {
          await (await client()).workflow.getHandle(`review-${id}`).signal(action, decision);
        } catch (err) {
          if (err instanceof WorkflowNotFoundError) return sendError(reply, 409, 'LF_CONFLICT', 'the review workflow is not running (already decided?)');
          throw err;
        }
        log.info({ txId: id, decision: action, reviewer: decision.actor, credential: req.credential?.id }, 'review decision sent');
        return reply.code(202).send({ txId: id, decision: action, accepted: true as const });
      },
    });
  }

  routes.get('/reviews', {
    config: rule.config,
    schema: {
      ...schema,
      summary: 'The fraud review queue by status (default open), oldest first, keyset-paged.',
      querystring: z.object({ status: z.enum(REVIEW_STATUSES).default('open'), limit: limitSchema(config.api.pageSizeMax), cursor: cursorSchema.optional() }),
      response: { 200: reviewPageSchema, 400: errorResponse('Bad status, limit or cursor.'), ...rule.responses },
    },
    handler: async (req) => {
      const after = req.query.cursor === undefined ? undefined : (({ at, id }) => ({ openedAt: at, txId: id }))(decodeCursor(req.query.cursor));
      const page = await listReviews(pool, req.query.status, req.query.limit, after);
      return { items: page.items, nextCursor: page.next ? encodeCursor(page.next.openedAt, page.next.txId) : null };
    },
  });

  routes.get('/reviews/:id', {
    config: rule.config,
    schema: {
      ...schema,
      summary: 'One review with its audit trail.',
      params: z.object({ id: transactionIdSchema }),
      response: { 200: reviewWithAuditSchema, 400: errorResponse('Bad id.'), ...rule.responses, 404: errorResponse('No review.') },
    },
    handler: async (req, reply) => {
      const review = await getReview(pool, req.params.id);
      if (!review) return sendError(reply, 404, 'LF_NOT_FOUND', `no review for transaction ${req.params.id}`);
      return { ...review, audit: await auditTrail(pool, req.params.id) };
    },
  });

  return {
    close: async () => {
      if (temporal) await (await temporal).connection.close();
    },
  };
}
