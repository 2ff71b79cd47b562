import type { FastifyInstance } from 'fastify';
import type { Config } from '../config';
import { ACCOUNT_PATTERN } from '../domain/transaction';
import { accountBalances, accountHistory, getTransaction, statsSummary, type HistoryCursor } from '../store/queries';
import type { Pool } from '../store/pool';
import { sendError } from './errors';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function encodeCursor(cursor: HistoryCursor): string {
  return Buffer.from(JSON.stringify([cursor.occurredAt, cursor.id])).toString('base64url');
}

export function decodeCursor(text: string): HistoryCursor | null {
  try {
    const [occurredAt, id] = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as [unknown, unknown];
    if (typeof occurredAt !== 'string' || !Number.isFinite(Date.parse(occurredAt)) || typeof id !== 'string' || !UUID.test(id)) return null;
    return { occurredAt: new Date(occurredAt).toISOString(), id };
  } catch {
    return null;
  }
}

export function registerReads(app: FastifyInstance, config: Config, pool: Pool): void {
  app.get<{ Params: { id: string } }>('/transactions/:id', async (req, reply) => {
    if (!UUID.test(req.params.id)) return sendError(reply, 400, 'LF_INVALID_REQUEST', 'id: must be a lowercase UUID', 'id');
    const row = await getTransaction(pool, req.params.id);
    if (!row) return sendError(reply, 404, 'LF_NOT_FOUND', `transaction ${req.params.id} not found`);
    return row;
  });

  app.get<{ Params: { account: string }; Querystring: { limit?: string; cursor?: string } }>('/accounts/:account/transactions', async (req, reply) => {
    const { account } = req.params;
    if (!ACCOUNT_PATTERN.test(account)) return sendError(reply, 400, 'LF_INVALID_REQUEST', 'account: must be 1-64 characters of A-Z a-z 0-9 _ . : -', 'account');
    const limit = req.query.limit === undefined ? 50 : Number(req.query.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > config.api.pageSizeMax) {
      return sendError(reply, 400, 'LF_INVALID_REQUEST', `limit: must be an integer from 1 to ${config.api.pageSizeMax}`, 'limit');
    }
    let after: HistoryCursor | undefined;
    if (req.query.cursor !== undefined) {
      const decoded = decodeCursor(req.query.cursor);
      if (!decoded) return sendError(reply, 400, 'LF_INVALID_REQUEST', 'cursor: not a cursor returned by this API', 'cursor');
      after = decoded;
    }
    const page = await accountHistory(pool, account, limit, after);
    return { items: page.items, nextCursor: page.next ? encodeCursor(page.next) : null };
  });

  app.get<{ Params: { account: string } }>('/accounts/:account/balance', async (req, reply) => {
    const { account } = req.params;
    if (!ACCOUNT_PATTERN.test(account)) return sendError(reply, 400, 'LF_INVALID_REQUEST', 'account: must be 1-64 characters of A-Z a-z 0-9 _ . : -', 'account');
    const balances = await accountBalances(pool, account);
    if (balances.length === 0) return sendError(reply, 404, 'LF_NOT_FOUND', `account ${account} has no balance yet`);
    return { account, balances };
  });

  app.get('/stats/summary', async () => statsSummary(pool));
}
