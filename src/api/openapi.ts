import { z } from 'zod';
import { transactionBodySchema } from '../domain/transaction';

const error = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: { code: { type: 'string' }, message: { type: 'string' }, field: { type: 'string' } },
    },
  },
};
const errorResponse = (description: string) => ({ description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } });
const json = (schema: object, description: string) => ({ description, content: { 'application/json': { schema } } });
const accountParam = { name: 'account', in: 'path', required: true, schema: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$' } };

const transaction = {
  type: 'object',
  properties: {
    id: { type: 'string', format: 'uuid' },
    account: { type: 'string' },
    counterparty: { type: ['string', 'null'] },
    type: { type: 'string', enum: ['debit', 'credit', 'transfer'] },
    amountMinor: { type: 'string', description: 'Integer minor units as a decimal string.' },
    currency: { type: 'string' },
    status: { type: 'string', enum: ['applied', 'rejected'] },
    reason: { type: ['string', 'null'] },
    description: { type: ['string', 'null'] },
    occurredAt: { type: 'string', format: 'date-time' },
    ingestedAt: { type: 'string', format: 'date-time' },
    source: { type: 'object', properties: { partition: { type: 'integer' }, offset: { type: 'string' } } },
  },
};

const review = {
  type: 'object',
  properties: {
    txId: { type: 'string', format: 'uuid' },
    account: { type: 'string' },
    score: { type: 'string', description: 'Fraud score 0..1 as a decimal string.' },
    status: { type: 'string', enum: ['open', 'escalated', 'approved', 'rejected'] },
    openedAt: { type: 'string', format: 'date-time' },
    escalatedAt: { type: ['string', 'null'], format: 'date-time' },
    decidedAt: { type: ['string', 'null'], format: 'date-time' },
    decidedBy: { type: ['string', 'null'] },
    reversed: { type: 'boolean' },
  },
};

function reviewDecision(summary: string) {
  return {
    post: {
      summary,
      security: [{ reviewerToken: [] }],
      parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } }],
      requestBody: {
        required: true,
        content: {
          'application/json': {
            schema: { type: 'object', required: ['reviewer', 'reason'], properties: { reviewer: { type: 'string', minLength: 1, maxLength: 128 }, reason: { type: 'string', minLength: 1, maxLength: 500 } } },
          },
        },
      },
      responses: {
        '202': json({ type: 'object' }, 'Decision handed to the review workflow (audited when recorded).'),
        '400': errorResponse('Bad id or body.'),
        '401': errorResponse('Missing or wrong bearer token.'),
        '404': errorResponse('No review for this transaction.'),
        '409': errorResponse('Already decided.'),
        '503': errorResponse('Reviews not configured.'),
      },
    },
  };
}

/** The OpenAPI 3.1 document served at /openapi.json; request bodies come from the zod schema itself. */
export function openApiDocument() {
  const body = z.toJSONSchema(transactionBodySchema, { io: 'input', unrepresentable: 'any' });
  return {
    openapi: '3.1.0',
    info: { title: 'Ledgerflow API', version: '0.1.0', description: 'Ingest and read transactions; amounts are integer minor units.' },
    components: {
      schemas: { Error: error, TransactionBody: body, Transaction: transaction, Review: review },
      securitySchemes: { reviewerToken: { type: 'http', scheme: 'bearer' } },
    },
    paths: {
      '/transactions': {
        post: {
          summary: 'Ingest one transaction or an array of them (asynchronously applied).',
          parameters: [{ name: 'Idempotency-Key', in: 'header', required: true, schema: { type: 'string', minLength: 8, maxLength: 200 } }],
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: { oneOf: [{ $ref: '#/components/schemas/TransactionBody' }, { type: 'array', items: { $ref: '#/components/schemas/TransactionBody' } }] },
              },
            },
          },
          responses: {
            '202': json({ type: 'object', properties: { ids: { type: 'array', items: { type: 'string', format: 'uuid' } } } }, 'Accepted; ids derived from the key.'),
            '400': errorResponse('Invalid body or header; nothing was produced.'),
          },
        },
      },
      '/transactions/{id}': {
        get: {
          summary: 'One transaction by id.',
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } }],
          responses: { '200': json({ $ref: '#/components/schemas/Transaction' }, 'The transaction.'), '400': errorResponse('Bad id.'), '404': errorResponse('Unknown id.') },
        },
      },
      '/accounts/{account}/transactions': {
        get: {
          summary: "An account's transactions, newest first, keyset-paged.",
          parameters: [
            accountParam,
            { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, default: 50 } },
            { name: 'cursor', in: 'query', schema: { type: 'string' } },
          ],
          responses: {
            '200': json(
              { type: 'object', properties: { items: { type: 'array', items: { $ref: '#/components/schemas/Transaction' } }, nextCursor: { type: ['string', 'null'] } } },
              'A page.',
            ),
            '400': errorResponse('Bad account, limit or cursor.'),
          },
        },
      },
      '/accounts/{account}/balance': {
        get: {
          summary: 'Balances of an account, one per currency.',
          parameters: [accountParam],
          responses: { '200': json({ type: 'object' }, 'Balances.'), '400': errorResponse('Bad account.'), '404': errorResponse('No balance yet.') },
        },
      },
      '/reviews': {
        get: {
          summary: 'The fraud review queue by status (default open), oldest first, keyset-paged.',
          parameters: [
            { name: 'status', in: 'query', schema: { type: 'string', enum: ['open', 'escalated', 'approved', 'rejected'], default: 'open' } },
            { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, default: 50 } },
            { name: 'cursor', in: 'query', schema: { type: 'string' } },
          ],
          responses: {
            '200': json({ type: 'object', properties: { items: { type: 'array', items: { $ref: '#/components/schemas/Review' } }, nextCursor: { type: ['string', 'null'] } } }, 'A page.'),
            '400': errorResponse('Bad status, limit or cursor.'),
          },
        },
      },
      '/reviews/{id}': {
        get: {
          summary: 'One review with its audit trail.',
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } }],
          responses: { '200': json({ $ref: '#/components/schemas/Review' }, 'The review.'), '400': errorResponse('Bad id.'), '404': errorResponse('No review.') },
        },
      },
      '/reviews/{id}/approve': reviewDecision('Approve a held transaction (it stays applied).'),
      '/reviews/{id}/reject': reviewDecision('Reject a held transaction as fraud: its balance effect is reversed exactly once and its vector joins the fraud set.'),
      '/stats/summary': { get: { summary: 'Totals from the rollups.', responses: { '200': json({ type: 'object' }, 'Summary.') } } },
      '/healthz': { get: { summary: 'Liveness.', responses: { '200': json({ type: 'object' }, 'Alive.') } } },
      '/readyz': { get: { summary: 'Readiness (database and Kafka reachable, not draining).', responses: { '200': json({ type: 'object' }, 'Ready.'), '503': json({ type: 'object' }, 'Not ready.') } } },
      '/metrics': { get: { summary: 'Prometheus metrics.', responses: { '200': { description: 'Text exposition format.' } } } },
      '/events': { get: { summary: 'Server-sent events: a summary every second (live page feed).', responses: { '200': { description: 'text/event-stream' } } } },
    },
  };
}
