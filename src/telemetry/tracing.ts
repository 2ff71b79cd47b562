import { NodeSDK } from '@opentelemetry/sdk-node';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace';
import { getNodeAutoInstrumentations } from '@opentelemetry/auto-instrumentations-node';
import type { Config } from '../config';
import { otlpTarget, resourceAttributes } from './otlp';
import { setSpanProcessor } from './trace-context';

/**
 * OpenTelemetry tracing for one process, started by the CLI before any instrumented module
 * (mysql2, http) is required: the auto-instrumentations patch modules as they load, and a module
 * required earlier stays unpatched. The CLI imports this module only when tracing is on.
 *
 * The exporter follows the standard variables, read by src/config.ts:
 * OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT, _HEADERS, _PROTOCOL (http/protobuf by default, http/json,
 * grpc), and OTEL_BSP_* for batching.
 */
let sdk: NodeSDK | undefined;
const PROBE_PATHS = /^\/(healthz|readyz|metrics)(\?|$)/;

function exporterOf(config: Config): SpanExporter {
  const { protocol, url, headers } = otlpTarget(config, 'traces');
  const options = { url, headers };
  switch (protocol) {
    case 'http/json':
      return new (require('@opentelemetry/exporter-trace-otlp-http') as typeof import('@opentelemetry/exporter-trace-otlp-http')).OTLPTraceExporter(options);
    case 'grpc':
      return new (require('@opentelemetry/exporter-trace-otlp-grpc') as typeof import('@opentelemetry/exporter-trace-otlp-grpc')).OTLPTraceExporter(options);
    default:
      return new (require('@opentelemetry/exporter-trace-otlp-proto') as typeof import('@opentelemetry/exporter-trace-otlp-proto')).OTLPTraceExporter(options);
  }
}

/** Starts the SDK (once per process) for the process `role` (consumer, worker, …). */
export function startTracing(config: Config, role: string): void {
  if (!config.tracing.enabled || sdk) return;
  const off = { enabled: false };
  const { otel } = config;
  const processor = new BatchSpanProcessor({
    exporter: exporterOf(config),
    maxQueueSize: otel.bspMaxQueueSize,
    scheduledDelayMillis: otel.bspScheduleDelayMs,
    exportTimeoutMillis: otel.bspExportTimeoutMs,
    maxExportBatchSize: otel.bspMaxExportBatchSize,
  });
  sdk = new NodeSDK({
    // The resource metrics carry too (src/telemetry/otlp.ts), from the config, not the SDK's own env reading.
    resource: resourceFromAttributes(resourceAttributes(config, role)),
    resourceDetectors: [],
    spanProcessors: [processor],
    // Traces only: metrics go over OTLP through src/telemetry/otlp-metrics.ts (one set of
    // instruments with /metrics), logs with pino.
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [
      getNodeAutoInstrumentations({
        // Kafka context is carried by our own batch-level spans (src/telemetry/trace-context.ts):
        // kafkajs's instrumentation would add a span per message. The Temporal client's gRPC long
        // polls and fs/dns/net calls are noise around the stages that matter.
        // Probes and scrapes every few seconds would each make a trace of their own.
        '@opentelemetry/instrumentation-http': { ignoreIncomingRequestHook: (req) => PROBE_PATHS.test(req.url ?? '') },
        '@opentelemetry/instrumentation-kafkajs': off,
        '@opentelemetry/instrumentation-grpc': off,
        '@opentelemetry/instrumentation-fs': off,
        '@opentelemetry/instrumentation-dns': off,
        '@opentelemetry/instrumentation-net': off,
        '@opentelemetry/instrumentation-undici': off,
        '@opentelemetry/instrumentation-runtime-node': off,
      }),
    ],
  });
  sdk.start();
  setSpanProcessor(processor);
}

/** Flushes pending spans and stops the SDK; called before the process exits. */
export async function stopTracing(): Promise<void> {
  const running = sdk;
  sdk = undefined;
  setSpanProcessor(undefined);
  await running?.shutdown();
}
