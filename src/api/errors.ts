import type { FastifyReply } from 'fastify';
import type { ErrorCode } from '../domain/errors';

/** One error shape for every 4xx/5xx: a stable code, a message, the field at fault. */
export function sendError(reply: FastifyReply, status: number, code: ErrorCode | 'LF_INTERNAL' | 'LF_UNAVAILABLE' | 'LF_UNAUTHORIZED' | 'LF_CONFLICT', message: string, field?: string) {
  return reply.code(status).send({ error: { code, message, ...(field ? { field } : {}) } });
}
