import { timingSafeEqual } from 'node:crypto';
import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Config } from '../config';
import type { Pool } from '../store/pool';
import { auditTrail, getReview, listReviews, type ReviewRow } from '../store/reviews';
import { temporalConnectionOptions } from '../temporal/connection';
import { sendError } from './errors';
import { decodeCursor, encodeCursor } from './reads';
import { dataConverter } from '../temporal/codec';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const STATUSES: ReadonlyArray<ReviewRow['status']> = ['open', 'escalated', 'approved', 'rejected'];

function bearerMatches(req: FastifyRequest, token: string): boolean {
  const header = req.headers.authorization ?? '';
  const sent = Buffer.from(header.startsWith('Bearer ') ? header.slice(7) : '');
  const expected = Buffer.from(token);
  return sent.length === expected.length && timingSafeEqual(sent, expected);
}

interface DecisionBody {
  reviewer?: unknown;
  reason?: unknown;
}

/**
 * The review queue over HTTP. Decisions need the reviewers' bearer token (fraud.reviewToken) and
 * name the reviewer and a reason; the reviewTransaction workflow receives them as a signal and its
 * activity records status, audit row and any reversal in one database transaction.
 */
export function registerReviews(app: FastifyInstance, config: Config, pool: Pool): { close(): Promise<void> } {
  let temporal: Promise<{ connection: Connection; client: Client }> | undefined;
  const client = async () => {
    temporal ??= Connection.connect(temporalConnectionOptions(config)).then((connection) => ({ connection, client: new Client({ connection, namespace: config.temporal.namespace, dataConverter: dataConverter() }) }));
    return (await temporal).client;
  };

  for (const action of ['approve', 'reject'] as const) {
    app.post<{ Params: { id: string }; Body: DecisionBody }>(`/reviews/:id/${action}`, async (req, reply) => {
      if (!config.fraud.reviewToken) return sendError(reply, 503, 'LF_UNAVAILABLE', 'reviews are not configured (fraud.reviewToken is empty)');
      if (!bearerMatches(req, config.fraud.reviewToken)) {
        return sendError(reply.header('WWW-Authenticate', 'Bearer'), 401, 'LF_UNAUTHORIZED', 'a valid reviewer bearer token is required');
      }
      if (!UUID.test(req.params.id)) return sendError(reply, 400, 'LF_INVALID_REQUEST', 'id: must be a lowercase UUID', 'id');
      const body = (req.body ?? {}) as DecisionBody;
      if (typeof body.reviewer !== 'string' || body.reviewer.trim().length === 0 || body.reviewer.length > 128) {
        return sendError(reply, 400, 'LF_INVALID_REQUEST', 'reviewer: must be a name of 1-128 characters', 'reviewer');
      }
      if (typeof body.reason !== 'string' || body.reason.trim().length === 0 || body.reason.length > 500) {
        return sendError(reply, 400, 'LF_INVALID_REQUEST', 'reason: must be a text of 1-500 characters', 'reason');
      }
      const review = await getReview(pool, req.params.id);
      if (!review) return sendError(reply, 404, 'LF_NOT_FOUND', `no review for transaction ${req.params.id}`);
      if (review.status === 'approved' || review.status === 'rejected') {
        return sendError(reply, 409, 'LF_CONFLICT', `review already ${review.status} by ${review.decidedBy ?? 'unknown'}`);
      }
      try {
        await (await client()).workflow.getHandle(`review-${req.params.id}`).signal(action, { actor: body.reviewer.trim(), reason: body.reason.trim() });
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) return sendError(reply, 409, 'LF_CONFLICT', 'the review workflow is not running (already decided?)');
        throw err;
      }
      return reply.code(202).send({ txId: req.params.id, decision: action, accepted: true });
    });
  }

  app.get<{ Querystring: { status?: string; limit?: string; cursor?: string } }>('/reviews', async (req, reply) => {
    const status = (req.query.status ?? 'open') as ReviewRow['status'];
    if (!STATUSES.includes(status)) return sendError(reply, 400, 'LF_INVALID_REQUEST', `status: must be one of ${STATUSES.join(', ')}`, 'status');
    const limit = req.query.limit === undefined ? 50 : Number(req.query.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > config.api.pageSizeMax) {
      return sendError(reply, 400, 'LF_INVALID_REQUEST', `limit: must be an integer from 1 to ${config.api.pageSizeMax}`, 'limit');
    }
    let after;
    if (req.query.cursor !== undefined) {
      const decoded = decodeCursor(req.query.cursor);
      if (!decoded) return sendError(reply, 400, 'LF_INVALID_REQUEST', 'cursor: not a cursor returned by this API', 'cursor');
      after = { openedAt: decoded.occurredAt, txId: decoded.id };
    }
    const page = await listReviews(pool, status, limit, after);
    return { items: page.items, nextCursor: page.next ? encodeCursor({ occurredAt: page.next.openedAt, id: page.next.txId }) : null };
  });

  app.get<{ Params: { id: string } }>('/reviews/:id', async (req, reply) => {
    if (!UUID.test(req.params.id)) return sendError(reply, 400, 'LF_INVALID_REQUEST', 'id: must be a lowercase UUID', 'id');
    const review = await getReview(pool, req.params.id);
    if (!review) return sendError(reply, 404, 'LF_NOT_FOUND', `no review for transaction ${req.params.id}`);
    return { ...review, audit: await auditTrail(pool, req.params.id) };
  });

  return {
    close: async () => {
      if (temporal) await (await temporal).connection.close();
    },
  };
}
