import type { FastifyReply, FastifySchemaCompiler } from 'fastify';
import type { ZodType } from 'zod';
import type { ErrorCode } from '../domain/errors';

export type ApiErrorCode =
  | ErrorCode
  | 'LF_INTERNAL'
  | 'LF_UNAVAILABLE'
  | 'LF_UNAUTHORIZED'
  | 'LF_FORBIDDEN'
  | 'LF_RATE_LIMITED'
  | 'LF_CONFLICT'
  | 'LF_METHOD_NOT_ALLOWED'
  | 'LF_IDEMPOTENCY_KEY_REUSED'
  | 'LF_IDEMPOTENCY_KEY_IN_FLIGHT';

/** One error shape for every 4xx/5xx: a stable code, a message, the field at fault, and any detail. */
export function sendError(reply: FastifyReply, status: number, code: ApiErrorCode, message: string, field?: string, detail: Record<string, unknown> = {}) {
  return reply.code(status).send({ error: { code, message, ...(field ? { field } : {}), ...detail } });
}

/** An error a hook throws to answer with the error shape (the error handler sends it). */
export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: ApiErrorCode,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

interface Issue {
  code: string;
  path: PropertyKey[];
  message: string;
  keys?: string[];
  origin?: string;
  maximum?: number | bigint;
  errors?: Issue[][];
}

/** The zod issues of a refused request, kept whole (the provider's own compiler flattens them). */
export class RequestValidationError extends Error {
  /** body, querystring, params or headers: set by Fastify. */
  validationContext?: string;
  constructor(readonly issues: Issue[]) {
    super(issues[0]?.message ?? 'invalid request');
  }
}

/** Validates with the route's zod schema; the value handlers get is the schema's output. */
export const validatorCompiler: FastifySchemaCompiler<ZodType> =
  ({ schema }) =>
  (data) => {
    const result = schema.safeParse(data);
    return result.success ? { value: result.data } : { error: new RequestValidationError(result.error.issues as Issue[]) };
  };

/** `[1].currency` for a body path, `limit` for a query parameter. */
const pathText = (path: PropertyKey[]) => path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i > 0 ? '.' : ''}${String(p)}`)).join('');

const IDEMPOTENCY_KEY_RULE = 'Idempotency-Key header is required: 8-200 printable ASCII characters';

/**
 * The issues of the one branch of a union the input was meant for: a body that is an object
 * fails the array branch on its type alone, and the other way round.
 */
function meantBranch(issue: Issue): Issue[] | null {
  if (issue.code !== 'invalid_union' || !issue.errors) return null;
  const branches = issue.errors.filter((b) => !(b.length === 1 && b[0]?.code === 'invalid_type' && b[0].path.length === 0));
  return branches.length === 1 ? (branches[0] as Issue[]) : null;
}

/** The message and field of a refused request: the first issue, in the words a client can act on. */
export function describeRequestError(err: RequestValidationError, context: string | undefined, ingestBatchMax: number): { message: string; field: string } {
  const branch = err.issues.length === 1 ? meantBranch(err.issues[0] as Issue) : null;
  if (branch) return describeRequestError(new RequestValidationError(branch), context, ingestBatchMax);
  const issue = err.issues[0] as Issue;
  if (context === 'headers' && issue.path[0] === 'idempotency-key') return { message: IDEMPOTENCY_KEY_RULE, field: 'Idempotency-Key' };
  const at = pathText(issue.path);
  const more = err.issues.length > 1 ? ` (+${err.issues.length - 1} more)` : '';
  if (context === 'body' && issue.path.length === 0 && (issue.code === 'too_small' || issue.code === 'too_big') && issue.origin === 'array') {
    return { message: `body must hold 1 to ${ingestBatchMax} transactions`, field: '(root)' };
  }
  if (issue.code === 'unrecognized_keys') {
    const prefix = at ? `${at}.` : '';
    if (issue.keys?.includes('id')) return { message: `${prefix}id: must not be set; the id is derived from Idempotency-Key`, field: `${prefix}id` };
    return { message: `${prefix}${issue.keys?.[0] ?? '?'}: is not a known field${more}`, field: `${prefix}${issue.keys?.[0] ?? ''}` };
  }
  if (context === 'body' && issue.code === 'invalid_union' && issue.path.length === 0) {
    return { message: `body must be a transaction object or an array of 1 to ${ingestBatchMax} of them`, field: '(root)' };
  }
  const field = at || '(root)';
  return { message: `${field}: ${issue.message}${more}`, field };
}
