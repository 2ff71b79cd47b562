import { Config } from '../config';
import { runningPid, stackContext } from './lifecycle';
import { jaegerPorts } from './jaeger';
import { STACK_HOST } from './layout';
import { otelcolPaths, otelcolPorts } from './otelcol';

/** Addresses of the stack's OpenTelemetry Collector and Jaeger, for those that are running. */
export interface LocalTelemetry {
  /** OTLP/HTTP base URL: what OTEL_EXPORTER_OTLP_ENDPOINT should be to send there. */
  collectorOtlp?: string;
  /** The metrics the collector received, in the Prometheus format. */
  collectorPrometheus?: string;
  /** Every metric export the collector received, one OTLP/JSON line each. */
  collectorMetricsFile?: string;
  jaegerUi?: string;
}

export function localTelemetry(config: Config): LocalTelemetry {
  const ctx = stackContext(config, () => undefined);
  const out: LocalTelemetry = {};
  if (runningPid(ctx, 'otelcol') !== undefined) {
    const ports = otelcolPorts(ctx);
    out.collectorOtlp = `http://${STACK_HOST}:${ports.otlpHttp}`;
    out.collectorPrometheus = `http://${STACK_HOST}:${ports.prometheus}/metrics`;
    out.collectorMetricsFile = otelcolPaths(ctx).metricsFile;
  }
  if (runningPid(ctx, 'jaeger') !== undefined) out.jaegerUi = `http://${STACK_HOST}:${jaegerPorts(config).query}/`;
  return out;
}
