import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Link, type Span, type SpanContext, type TextMapGetter } from '@opentelemetry/api';
import type { IHeaders } from 'kafkajs';
import type { SpanProcessor } from '@opentelemetry/sdk-trace';

/**
 * Trace context across Kafka, one span per produced chunk and one per consumed batch, using only
 * @opentelemetry/api: without a started SDK every call here is a no-op (see ./tracing.ts).
 */
const tracer = trace.getTracer('ledgerflow');

/** Links kept on a batch span besides its parent; a batch may mix events of many produce calls. */
const BATCH_LINKS_MAX = 64;

let spanProcessor: SpanProcessor | undefined;

/** Set by ./tracing.ts when the SDK starts (and cleared when it stops). */
export function setSpanProcessor(processor: SpanProcessor | undefined): void {
  spanProcessor = processor;
}

/** The processor of the running SDK, if tracing is on: the worker hands it its workflows' spans. */
export function activeSpanProcessor(): SpanProcessor | undefined {
  return spanProcessor;
}

async function inSpan<T>(span: Span, work: () => Promise<T>): Promise<T> {
  try {
    return await context.with(trace.setSpan(context.active(), span), work);
  } catch (err) {
    span.recordException(err as Error);
    span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
    throw err;
  } finally {
    span.end();
  }
}

/**
 * One PRODUCER span around a send of `count` messages; `work` gets the headers (W3C traceparent)
 * to put on every message of that send, so the consumer can continue the trace.
 */
export function withProduceSpan<T>(topic: string, count: number, work: (headers: Record<string, string>) => Promise<T>): Promise<T> {
  const span = tracer.startSpan(`send ${topic}`, {
    kind: SpanKind.PRODUCER,
    attributes: { 'messaging.system': 'kafka', 'messaging.operation.type': 'send', 'messaging.destination.name': topic, 'messaging.batch.message_count': count },
  });
  const headers: Record<string, string> = {};
  propagation.inject(trace.setSpan(context.active(), span), headers);
  return inSpan(span, () => work(headers));
}

const kafkaHeaderGetter: TextMapGetter<IHeaders> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => {
    const value = carrier[key];
    const one = Array.isArray(value) ? value[0] : value;
    return one === undefined ? undefined : one.toString();
  },
};

export interface BatchSpanInfo {
  topic: string;
  partition: number;
  batchId: string;
  firstOffset: string;
  lastOffset: string;
}

/**
 * One CONSUMER span for a batch, child of the first message's producer span (so a produced event
 * and its batch share one trace) and linked to the other producer spans the batch contains.
 */
export function withBatchSpan<T>(info: BatchSpanInfo, messages: ReadonlyArray<{ headers?: IHeaders }>, work: () => Promise<T>): Promise<T> {
  if (!spanProcessor) return work();
  const seen = new Set<string>();
  const contexts: SpanContext[] = [];
  for (const m of messages) {
    if (!m.headers || contexts.length > BATCH_LINKS_MAX) continue;
    const found = trace.getSpanContext(propagation.extract(ROOT_CONTEXT, m.headers, kafkaHeaderGetter));
    if (!found || seen.has(found.spanId)) continue;
    seen.add(found.spanId);
    contexts.push(found);
  }
  const [parent, ...others] = contexts;
  const links: Link[] = others.map((c) => ({ context: c }));
  const span = tracer.startSpan(
    `process ${info.topic}`,
    {
      kind: SpanKind.CONSUMER,
      links,
      attributes: {
        'messaging.system': 'kafka',
        'messaging.operation.type': 'process',
        'messaging.destination.name': info.topic,
        'messaging.destination.partition.id': String(info.partition),
        'messaging.batch.message_count': messages.length,
        'ledgerflow.batch_id': info.batchId,
        'ledgerflow.first_offset': info.firstOffset,
        'ledgerflow.last_offset': info.lastOffset,
      },
    },
    parent ? trace.setSpanContext(ROOT_CONTEXT, parent) : ROOT_CONTEXT,
  );
  return inSpan(span, work);
}
