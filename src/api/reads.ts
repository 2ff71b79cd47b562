import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Config } from '../config';
import { accountBalances, accountHistory, getTransaction, statsSummary } from '../store/queries';
import type { Pool } from '../store/pool';
import { access } from './auth/authorize';
import { sendError } from './errors';
import {
  accountSchema,
  balancesSchema,
  cursorSchema,
  decodeCursor,
  encodeCursor,
  errorResponse,
  limitSchema,
  statsSummarySchema,
  transactionIdSchema,
  transactionPageSchema,
  transactionSchema,
} from './schemas';

/** Ledger reads: one transaction, an account's history and balances, the totals. Scope `read`. */
export function registerReads(app: FastifyInstance, config: Config, pool: Pool): void {
  const routes = app.withTypeProvider<ZodTypeProvider>();
  const rule = access({ scopes: ['read'] });
  const common = { config: rule.config };
  const schema = { tags: ['ledger'], security: rule.security };

  routes.get('/transactions/:id', {
    ...common,
    schema: {
      ...schema,
      summary: 'One transaction by id.',
      params: z.object({ id: transactionIdSchema }),
      response: { 200: transactionSchema, 400: errorResponse('Bad id.'), ...rule.responses, 404: errorResponse('Unknown id.') },
    },
    handler: async (req, reply) => {
      const row = await getTransaction(pool, req.params.id);
      if (!row) return sendError(reply, 404, 'LF_NOT_FOUND', `transaction ${req.params.id} not found`);
      return row as z.output<typeof transactionSchema>;
    },
  });

  routes.get('/accounts/:account/transactions', {
    ...common,
    schema: {
      ...schema,
      summary: "An account's transactions (made, and transfers received), newest first, keyset-paged.",
      params: z.object({ account: accountSchema }),
      querystring: z.object({ limit: limitSchema(config.api.pageSizeMax), cursor: cursorSchema.optional() }),
      response: { 200: transactionPageSchema, 400: errorResponse('Bad account, limit or cursor.'), ...rule.responses },
    },
    handler: async (req) => {
      const after = req.query.cursor === undefined ? undefined : (({ at, id }) => ({ occurredAt: at, id }))(decodeCursor(req.query.cursor));
      const page = await accountHistory(pool, req.params.account, req.query.limit, after);
      return { items: page.items as Array<z.output<typeof transactionSchema>>, nextCursor: page.next ? encodeCursor(page.next.occurredAt, page.next.id) : null };
    },
  });

  routes.get('/accounts/:account/balance', {
    ...common,
    schema: {
      ...schema,
      summary: 'Balances of an account, one per currency.',
      params: z.object({ account: accountSchema }),
      response: { 200: balancesSchema, 400: errorResponse('Bad account.'), ...rule.responses, 404: errorResponse('No balance yet.') },
    },
    handler: async (req, reply) => {
      const balances = await accountBalances(pool, req.params.account);
      if (balances.length === 0) return sendError(reply, 404, 'LF_NOT_FOUND', `account ${req.params.account} has no balance yet`);
      return { account: req.params.account, balances };
    },
  });

  routes.get('/stats/summary', {
    ...common,
    schema: { ...schema, summary: 'Totals from the rollups.', response: { 200: statsSummarySchema, ...rule.responses } },
    handler: async () => statsSummary(pool),
  });
}
