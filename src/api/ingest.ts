import type { FastifyInstance } from 'fastify';
import type { Config } from '../config';
import { sendKeyed, type TopicProducer } from '../kafka/client';
import { transactionIdFromKey } from '../domain/ids';
import { describeIssues, transactionBodySchema, type TransactionEvent } from '../domain/transaction';
import { countProduced, type Metrics } from '../telemetry/metrics';
import { withProduceSpan } from '../telemetry/trace-context';
import { sendError } from './errors';

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{8,200}$/;
const INGEST_TIMEOUT_MS = 10_000;

/**
 * POST /transactions: one object or an array. The Idempotency-Key header fixes the transaction
 * ids (key + item index), so a retried request produces the same ids and lands once. Every item
 * is validated before anything is produced: one bad item rejects the whole request.
 */
export function registerIngest(app: FastifyInstance, config: Config, target: TopicProducer, metrics: Metrics): void {
  app.post('/transactions', async (req, reply) => {
    const key = req.headers['idempotency-key'];
    if (typeof key !== 'string' || !IDEMPOTENCY_KEY.test(key)) {
      return sendError(reply, 400, 'LF_INVALID_REQUEST', 'Idempotency-Key header is required: 8-200 printable ASCII characters', 'Idempotency-Key');
    }
    const body = req.body;
    const items = Array.isArray(body) ? body : [body];
    if (items.length === 0 || items.length > config.api.ingestBatchMax) {
      return sendError(reply, 400, 'LF_INVALID_REQUEST', `body must hold 1 to ${config.api.ingestBatchMax} transactions`, '(root)');
    }
    const events: TransactionEvent[] = [];
    for (const [index, item] of items.entries()) {
      if (typeof item === 'object' && item !== null && 'id' in item) {
        return sendError(reply, 400, 'LF_INVALID_REQUEST', `${prefix(body, index)}id: must not be set; the id is derived from Idempotency-Key`, `${prefix(body, index)}id`);
      }
      const parsed = transactionBodySchema.safeParse(item);
      if (!parsed.success) {
        const { field, reason } = describeIssues(parsed.error.issues);
        return sendError(reply, 400, 'LF_INVALID_REQUEST', `${prefix(body, index)}${reason}`, `${prefix(body, index)}${field}`);
      }
      events.push({ id: transactionIdFromKey(key, index), ...parsed.data });
    }
    const sent = withProduceSpan(config.kafka.topic, events.length, (headers) =>
      sendKeyed(target, config.kafka.topic, events.map((e) => ({ key: e.account, value: JSON.stringify(e), headers }))),
    );
    // Kafka down: answer 503 rather than hang; a retry with the same key yields the same ids.
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), INGEST_TIMEOUT_MS)));
    const outcome = await Promise.race([sent, timeout]).finally(() => clearTimeout(timer));
    if (outcome === 'timeout') {
      sent.catch(() => undefined);
      return sendError(reply, 503, 'LF_UNAVAILABLE', 'Kafka did not acknowledge in time; retry with the same Idempotency-Key');
    }
    countProduced(metrics, config.kafka.topic, outcome, () => 'http');
    return reply.code(202).send({ ids: events.map((e) => e.id) });
  });
}

function prefix(body: unknown, index: number): string {
  return Array.isArray(body) ? `[${index}].` : '';
}
