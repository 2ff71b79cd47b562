import { z } from 'zod';
import { ACCOUNT_PATTERN, textOfAtMost, TRANSACTION_TYPES, UUID_PATTERN } from '../domain/transaction';

/**
 * The schemas of the API's parameters and answers. Routes declare them once; the validator, the
 * serializer and the OpenAPI document at /openapi.json (@fastify/swagger) all come from them.
 * Request bodies are the domain's own schemas (src/domain/transaction.ts).
 */

export const errorSchema = z
  .object({
    error: z.object({
      code: z.string().meta({ description: 'Stable code to branch on, e.g. LF_INVALID_REQUEST.' }),
      message: z.string(),
      field: z.string().optional().meta({ description: 'The parameter or body field at fault.' }),
    }),
  })
  .meta({ id: 'Error' });

/** A documented error answer: the error shape (or a richer one) under a description. */
export function errorResponse(description: string, schema: z.ZodType = errorSchema) {
  return { description, content: { 'application/json': { schema } } };
}

/** 422 of POST /transactions: the key and the fields that differ from its first body. */
export const idempotencyConflictSchema = z
  .object({
    error: z.object({
      code: z.literal('LF_IDEMPOTENCY_KEY_REUSED'),
      message: z.string(),
      field: z.literal('Idempotency-Key'),
      key: z.string(),
      differences: z.array(
        z.object({
          field: z.string().meta({ description: 'e.g. [0].amountMinor, or items when the counts differ.' }),
          first: z.string().nullable().meta({ description: 'The value in the first request (normalised).' }),
          now: z.string().nullable().meta({ description: 'The value in this request (normalised).' }),
        }),
      ),
    }),
  })
  .meta({ id: 'IdempotencyConflict' });

export const transactionIdSchema = z.string().regex(UUID_PATTERN, 'must be a lowercase UUID');
export const accountSchema = z.string().regex(ACCOUNT_PATTERN, 'must be 1-64 characters of A-Z a-z 0-9 _ . : -');

/**
 * A keyset position: `<epoch ms>_<transaction id>`. Written as a pattern so that every string the
 * contract allows is one the API can decode (an opaque base64 cursor could not say so).
 */
export const CURSOR_PATTERN = /^[0-9]{1,15}_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const cursorSchema = z
  .string()
  .regex(CURSOR_PATTERN, 'must be a nextCursor returned by this API')
  .meta({ description: 'nextCursor of the previous page.' });

export function encodeCursor(at: string, id: string): string {
  return `${Date.parse(at)}_${id}`;
}

export function decodeCursor(cursor: string): { at: string; id: string } {
  const [ms, id] = cursor.split('_') as [string, string];
  return { at: new Date(Number(ms)).toISOString(), id };
}

/** `limit` of a paged read: 1..pageSizeMax, 50 when absent. */
export const limitSchema = (pageSizeMax: number) => z.coerce.number().int().min(1).max(pageSizeMax).default(50);

const instant = z.string().meta({ format: 'date-time' });
const minorUnits = z.string().meta({ description: 'Integer minor units as a decimal string.' });

export const transactionSchema = z
  .object({
    id: z.string(),
    account: z.string(),
    counterparty: z.string().nullable(),
    type: z.enum(TRANSACTION_TYPES),
    amountMinor: minorUnits,
    currency: z.string(),
    status: z.enum(['applied', 'rejected']),
    reason: z.string().nullable().meta({ description: 'Why a rejected transaction was rejected, e.g. insufficient_funds.' }),
    description: z.string().nullable(),
    occurredAt: instant,
    ingestedAt: instant,
    source: z.object({ partition: z.number().int(), offset: z.string() }),
  })
  .meta({ id: 'Transaction' });

export const transactionPageSchema = z.object({ items: z.array(transactionSchema), nextCursor: z.string().nullable() });

export const balancesSchema = z.object({
  account: z.string(),
  balances: z.array(z.object({ currency: z.string(), balanceMinor: minorUnits, version: z.string(), updatedAt: instant })),
});

const count = z.string().meta({ description: 'A count as a decimal string.' });
export const statsSummarySchema = z.object({
  transactions: z.object({ applied: count, rejected: count }),
  byType: z.array(z.object({ type: z.string(), currency: z.string(), count, amountMinor: minorUnits })),
  rejectedByReason: z.array(z.object({ reason: z.string(), count })),
  lastMinute: z.object({ count, amountMinor: minorUnits }),
  accounts: count,
});

export const REVIEW_STATUSES = ['open', 'escalated', 'approved', 'rejected'] as const;
export const reviewSchema = z
  .object({
    txId: z.string(),
    account: z.string(),
    score: z.string().meta({ description: 'Fraud score 0..1 as a decimal string.' }),
    status: z.enum(REVIEW_STATUSES),
    openedAt: instant,
    escalatedAt: instant.nullable(),
    decidedAt: instant.nullable(),
    decidedBy: z.string().nullable(),
    reversed: z.boolean(),
  })
  .meta({ id: 'Review' });
export const reviewPageSchema = z.object({ items: z.array(reviewSchema), nextCursor: z.string().nullable() });
export const reviewWithAuditSchema = reviewSchema.extend({
  audit: z.array(z.object({ action: z.string(), actor: z.string(), reason: z.string(), at: instant })),
});

/** Reviewer name and reason: each must hold a letter or digit (blank text is no reason). */
export const reviewDecisionSchema = z
  .object({
    reviewer: textOfAtMost(128, (s) => s.min(1).regex(/[A-Za-z0-9]/, 'must name the reviewer (a letter or digit)')),
    reason: textOfAtMost(500, (s) => s.min(1).regex(/[A-Za-z0-9]/, 'must give a reason (a letter or digit)')),
  })
  .strict();
