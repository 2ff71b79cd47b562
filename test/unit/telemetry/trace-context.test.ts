/**
 * How trace context crosses Kafka (src/telemetry/trace-context.ts) and how workflow spans are
 * handed to the SDK (src/telemetry/temporal-tracing.ts), with the real OpenTelemetry SDK recording
 * in memory. The end-to-end path over real services, through a real collector to Jaeger, is test/integration/otel-collector.test.ts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { propagation, SpanKind, trace, TraceFlags } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan, type SpanProcessor } from '@opentelemetry/sdk-trace';
import { workflowSpanRelay } from '../../../src/telemetry/temporal-tracing';
import { setSpanProcessor, withBatchSpan, withProduceSpan } from '../../../src/telemetry/trace-context';

const info = { topic: 't', partition: 2, batchId: 'tx-t-2-10', firstOffset: '10', lastOffset: '13' };

// Runs first, before any SDK is registered in this process: tracing off.
test('with tracing off, produce sends no trace headers and a batch just runs its work', async () => {
  const headers = await withProduceSpan('t', 3, async (h) => h);
  assert.deepEqual(headers, {});
  assert.equal(await withBatchSpan(info, [{ headers: { traceparent: Buffer.from('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01') } }], async () => 42), 42);
});

test('a batch span continues the first event’s trace and links the other producer spans', async () => {
  const exporter = new InMemorySpanExporter();
  const processor = new SimpleSpanProcessor({ exporter });
  trace.setGlobalTracerProvider(new TracerProvider({ spanProcessors: [processor] }));
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  setSpanProcessor(processor);
  try {
    const first = await withProduceSpan('t', 2, async (h) => h);
    const second = await withProduceSpan('t', 1, async (h) => h);
    assert.match(first.traceparent ?? '', /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    const asKafka = (h: Record<string, string>) => ({ headers: { traceparent: Buffer.from(h.traceparent ?? '') } });
    const result = await withBatchSpan(info, [asKafka(first), asKafka(first), asKafka(second), {}], async () => 'done');
    assert.equal(result, 'done');

    const spans = exporter.getFinishedSpans();
    const sends = spans.filter((s) => s.name === 'send t');
    const batch = spans.find((s) => s.name === 'process t') as ReadableSpan;
    assert.equal(sends.length, 2);
    assert.ok(sends.every((s) => s.kind === SpanKind.PRODUCER && s.attributes['messaging.batch.message_count'] !== undefined));
    const [a, b] = sends.map((s) => s.spanContext());
    assert.equal(batch.kind, SpanKind.CONSUMER);
    assert.equal(batch.spanContext().traceId, a?.traceId, 'same trace as the first event');
    assert.equal(batch.parentSpanContext?.spanId, a?.spanId, 'child of the first event’s send');
    assert.deepEqual(batch.links.map((l) => l.context.spanId), [b?.spanId], 'the other send is linked, once');
    assert.equal(batch.attributes['ledgerflow.batch_id'], info.batchId);
    assert.equal(batch.attributes['messaging.batch.message_count'], 4);

    await assert.rejects(withBatchSpan(info, [asKafka(first)], async () => Promise.reject(new Error('boom'))), /boom/);
    const failed = exporter.getFinishedSpans().at(-1) as ReadableSpan;
    assert.equal(failed.status.message, 'boom', 'a failed batch ends its span with the error');
  } finally {
    setSpanProcessor(undefined);
    trace.disable();
    propagation.disable();
  }
});

test('workflow spans recorded with 1.x field names reach the processor with parent and scope', () => {
  const ended: ReadableSpan[] = [];
  const processor = { onEnd: (s: ReadableSpan) => ended.push(s) } as unknown as SpanProcessor;
  const resource = resourceFromAttributes({ 'service.name': 'ledgerflow-worker' });
  const own = { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: TraceFlags.SAMPLED };
  const span = {
    name: 'RunWorkflow:processBatch',
    kind: SpanKind.SERVER,
    spanContext: () => own,
    parentSpanId: '00f067aa0ba902b7',
    instrumentationLibrary: { name: '@temporalio/interceptor-workflow' },
    startTime: [1, 0],
    endTime: [2, 0],
    status: { code: 0 },
    attributes: {},
    links: [],
    events: [],
    duration: [1, 0],
    ended: true,
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
  };
  workflowSpanRelay(processor, resource).onEnd(span as never);
  const [out] = ended;
  assert.ok(out);
  assert.deepEqual(out.spanContext(), own);
  assert.deepEqual(out.parentSpanContext, { traceId: own.traceId, spanId: '00f067aa0ba902b7', traceFlags: TraceFlags.SAMPLED, isRemote: true });
  assert.equal(out.instrumentationScope.name, '@temporalio/interceptor-workflow');
  assert.equal(out.resource.attributes['service.name'], 'ledgerflow-worker');

  workflowSpanRelay(processor, resource).onEnd({ ...span, parentSpanId: undefined } as never);
  assert.equal(ended[1]?.parentSpanContext, undefined, 'a root span stays a root');
});
