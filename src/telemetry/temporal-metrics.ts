import type { Config } from '../config';
import { otlpMetricsEnabled, otlpTarget } from './otlp';

/**
 * Where the Temporal core SDK in the worker sends its own metrics (task latencies, slots, pollers).
 * Core has one metrics exporter per runtime: with OTEL_METRICS_EXPORTER=otlp it exports OTLP
 * itself, to the same collector and as often as Ledgerflow's metrics, and the Prometheus endpoint
 * on worker.sdkMetricsPort is not served; otherwise that endpoint, as before. Both use seconds,
 * and the Prometheus suffixes match what a collector derives from the OTLP names and units
 * (docs/decisions/023-otlp-metrics.md).
 */
export type TemporalMetricsOptions =
  | { otel: { url: string; http: boolean; headers: Record<string, string>; metricsExportInterval: number; useSecondsForDurations: true; temporality: 'cumulative' } }
  | { prometheus: { bindAddress: string; useSecondsForDurations: true; unitSuffix: true; countersTotalSuffix: true } };

export function temporalMetricsOptions(config: Config): TemporalMetricsOptions | undefined {
  if (otlpMetricsEnabled(config)) {
    const { protocol, url, headers } = otlpTarget(config, 'metrics');
    // Core speaks OTLP/gRPC or OTLP/HTTP with protobuf; a collector takes either on its HTTP port.
    return { otel: { url, http: protocol !== 'grpc', headers, metricsExportInterval: config.otel.metricExportIntervalMs, useSecondsForDurations: true, temporality: 'cumulative' } };
  }
  if (config.worker.sdkMetricsPort === 0) return undefined;
  return { prometheus: { bindAddress: `${config.api.host}:${config.worker.sdkMetricsPort}`, useSecondsForDurations: true, unitSuffix: true, countersTotalSuffix: true } };
}
