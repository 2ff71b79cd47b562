import type { SpanContext } from '@opentelemetry/api';
import type { ReadableSpan, SpanProcessor } from '@opentelemetry/sdk-trace';
import type { ClientInterceptors } from '@temporalio/client';
import type { WorkerOptions } from '@temporalio/worker';
import { activeSpanProcessor } from './trace-context';

/**
 * Temporal's OpenTelemetry interceptors, wired only when tracing is on: the client puts the
 * consumer's span into the workflow's headers; the workflow interceptors (bundled into the workflow
 * code, deterministic: spans leave the sandbox through a sink, never during replay) continue it and
 * pass it to the activity, whose span parents the MySQL query spans.
 */
export const WORKFLOW_TRACING_INTERCEPTORS = require.resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors');

// The worker and client halves only: the package root also loads the workflow half, which is for the sandbox.
const workerHalf = () => require('@temporalio/interceptors-opentelemetry/lib/worker') as typeof import('@temporalio/interceptors-opentelemetry/lib/worker');
const clientHalf = () => require('@temporalio/interceptors-opentelemetry/lib/client') as typeof import('@temporalio/interceptors-opentelemetry/lib/client');

export function workflowClientInterceptors(): ClientInterceptors | undefined {
  if (!activeSpanProcessor()) return undefined;
  return { workflow: [new (clientHalf().OpenTelemetryWorkflowClientInterceptor)()] };
}

/** Worker options that add workflow and activity spans; empty (nothing loaded) when tracing is off. */
export function workerTracingOptions(): Pick<WorkerOptions, 'interceptors' | 'sinks'> {
  const processor = activeSpanProcessor();
  if (!processor) return {};
  const { OpenTelemetryActivityInboundInterceptor, OpenTelemetryActivityOutboundInterceptor, makeWorkflowExporter } = workerHalf();
  const { resourceFromAttributes } = require('@opentelemetry/resources') as typeof import('@opentelemetry/resources');
  const resource = resourceFromAttributes({ 'service.name': 'ledgerflow-worker' });
  const relay = workflowSpanRelay(processor, resource);
  return {
    interceptors: {
      workflowModules: [WORKFLOW_TRACING_INTERCEPTORS],
      activity: [(ctx) => ({ inbound: new OpenTelemetryActivityInboundInterceptor(ctx), outbound: new OpenTelemetryActivityOutboundInterceptor(ctx) })],
    },
    sinks: { exporter: makeWorkflowExporter(relay as never, resource as never) },
  };
}

/** A workflow span as the interceptors package rebuilds it (OpenTelemetry JS 1.x field names). */
interface WorkflowSpan extends Omit<ReadableSpan, 'parentSpanContext' | 'instrumentationScope'> {
  parentSpanId?: string;
  parentSpanContext?: SpanContext;
  instrumentationLibrary?: ReadableSpan['instrumentationScope'];
  instrumentationScope?: ReadableSpan['instrumentationScope'];
}

/**
 * The interceptors package records workflow spans with OpenTelemetry JS 1.x field names; this SDK
 * (2.x+) reads parentSpanContext and instrumentationScope. Renames them and hands the span on.
 */
export function workflowSpanRelay(processor: SpanProcessor, resource: ReadableSpan['resource']) {
  return {
    onStart: () => undefined,
    forceFlush: () => processor.forceFlush(),
    shutdown: async () => undefined,
    onEnd: (span: WorkflowSpan) => {
      const own = span.spanContext();
      const parentSpanContext =
        span.parentSpanContext ?? (span.parentSpanId ? { traceId: own.traceId, spanId: span.parentSpanId, traceFlags: own.traceFlags, isRemote: true } : undefined);
      processor.onEnd({
        ...span,
        spanContext: () => own,
        resource,
        parentSpanContext,
        instrumentationScope: span.instrumentationScope ?? span.instrumentationLibrary ?? { name: '@temporalio/interceptor-workflow' },
      });
    },
  };
}
