import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Config } from '../config';
import { transactionIdFromKey } from '../domain/ids';
import { transactionBodySchema, type TransactionEvent } from '../domain/transaction';
import { sendKeyed, type TopicProducer } from '../kafka/client';
import { finishClaim } from '../store/idempotency';
import type { Pool } from '../store/pool';
import type { Logger } from '../telemetry/log';
import { countProduced, type Metrics } from '../telemetry/metrics';
import { withProduceSpan } from '../telemetry/trace-context';
import { access } from './auth/authorize';
import { sendError } from './errors';
import { canonicalBody, claimKey } from './idempotency';
import { errorResponse, idempotencyConflictSchema } from './schemas';

const INGEST_TIMEOUT_MS = 10_000;
/**
 * An in-flight claim whose api stopped before answering is taken over after this long: twice the
 * longest an owner waits for Kafka, so a live owner is never overtaken.
 */
const CLAIM_LEASE_MS = 2 * INGEST_TIMEOUT_MS;

const acceptedSchema = z.object({ ids: z.array(z.string().meta({ format: 'uuid' })).meta({ description: 'One id per item, derived from the client, the key and the item index.' }) });

/**
 * POST /transactions: one object or an array. The Idempotency-Key fixes the transaction ids
 * (client + key + item index) and binds the key to the body: a retry gets the first answer and
 * lands once; another body under the same key is refused (422) before anything is produced.
 * Every item is validated before anything is produced: one bad item refuses the whole request.
 */
export function registerIngest(app: FastifyInstance, config: Config, target: TopicProducer, pool: Pool, metrics: Metrics, log: Logger): void {
  const rule = access({ scopes: ['ingest'] });
  const times = { retentionS: config.api.idempotencyRetentionS, leaseMs: CLAIM_LEASE_MS };
  app.withTypeProvider<ZodTypeProvider>().post('/transactions', {
    config: rule.config,
    schema: {
      summary: 'Ingest one transaction or an array of them (applied asynchronously).',
      tags: ['ingest'],
      security: rule.security,
      headers: z.object({
        'idempotency-key': z
          .string()
          .regex(/^[\x21-\x7e]{8,200}$/)
          .meta({ description: `8-200 printable ASCII characters, chosen by the client per payment and bound to this body for ${config.api.idempotencyRetentionS} s.` }),
      }),
      body: z.union([transactionBodySchema, z.array(transactionBodySchema).min(1).max(config.api.ingestBatchMax)]),
      response: {
        202: acceptedSchema.meta({ description: 'Accepted (or the first answer again, with Idempotent-Replayed: true).' }),
        400: errorResponse('Invalid body or Idempotency-Key; nothing was produced.'),
        ...rule.responses,
        409: errorResponse('A request with this Idempotency-Key is still in flight; retry after Retry-After seconds.'),
        422: errorResponse('This Idempotency-Key was first used with another body: error.key names it and error.differences the fields that differ. Nothing was produced.', idempotencyConflictSchema),
        503: errorResponse('Kafka or the database did not answer in time; retry with the same Idempotency-Key and body.'),
      },
    },
    handler: async (req, reply) => {
      const clientId = req.credential!.id;
      const key = req.headers['idempotency-key'];
      const items = Array.isArray(req.body) ? req.body : [req.body];
      const claim = await claimKey(pool, times, clientId, key, canonicalBody(items));
      metrics.idempotencyClaims.inc({ outcome: claim.kind });
      if (claim.kind === 'replay') return reply.code(claim.status as 202).header('idempotent-replayed', 'true').send(claim.body as { ids: string[] });
      if (claim.kind === 'in_flight') return sendError(reply.header('retry-after', '1'), 409, 'LF_IDEMPOTENCY_KEY_IN_FLIGHT', `a request with Idempotency-Key ${key} is still in flight`, 'Idempotency-Key');
      if (claim.kind === 'conflict') {
        const what = claim.differences.map((d) => d.field).join(', ');
        return sendError(reply, 422, 'LF_IDEMPOTENCY_KEY_REUSED', `Idempotency-Key ${key} was first used with another body (${what} differ); nothing was produced`, 'Idempotency-Key', {
          key,
          differences: claim.differences,
        });
      }
      const events: TransactionEvent[] = items.map((item, index) => ({ id: transactionIdFromKey(clientId, key, index), ...item }));
      // Not acknowledged: the claim is marked failed so a retry of the same body goes ahead at once.
      const release = () => finishClaim(pool, clientId, key, { state: 'failed' }).catch((err: Error) => log.warn({ err: err.message, key }, 'could not release an idempotency claim'));
      const outcome = await produceWithin(config, target, events).catch(async (err: unknown) => {
        await release();
        throw err;
      });
      if (outcome === 'timeout') {
        await release();
        return sendError(reply, 503, 'LF_UNAVAILABLE', 'Kafka did not acknowledge in time; retry with the same Idempotency-Key and body');
      }
      countProduced(metrics, config.kafka.topic, outcome, () => 'http');
      const answer = { ids: events.map((e) => e.id) };
      // Produced: the answer stands even if recording it fails (a retry then re-produces the same ids, stored once).
      await finishClaim(pool, clientId, key, { state: 'done', status: 202, body: JSON.stringify(answer) }).catch((err: Error) =>
        log.warn({ err: err.message, key }, 'could not record an idempotent answer'),
      );
      return reply.code(202).send(answer);
    },
  });
}

/** Sends, or says 'timeout' when Kafka is not there: answer 503 rather than hang. */
async function produceWithin(config: Config, target: TopicProducer, events: TransactionEvent[]) {
  const sent = withProduceSpan(config.kafka.topic, events.length, (headers) =>
    sendKeyed(target, config.kafka.topic, events.map((e) => ({ key: e.account, value: JSON.stringify(e), headers }))),
  );
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), INGEST_TIMEOUT_MS)));
  try {
    return await Promise.race([sent, timeout]);
  } finally {
    clearTimeout(timer);
    sent.catch(() => undefined);
  }
}
