import os from 'node:os';
import type { Config, OtlpProtocol } from '../config';

/**
 * Where and how OTLP data goes, from the standard OTEL_* settings (read by src/config.ts) as the
 * OpenTelemetry specification resolves them, once for the JavaScript exporters and the Temporal
 * core SDK alike. No SDK is imported here: this module is loaded when telemetry is off too.
 */

export type OtlpSignal = 'traces' | 'metrics';

export interface OtlpTarget {
  protocol: OtlpProtocol;
  /** The URL the exporter posts to: for OTLP/HTTP the full path (…/v1/metrics), for gRPC the server. */
  url: string;
  headers: Record<string, string>;
}

/** True when OTEL_METRICS_EXPORTER names otlp: metrics then also go to a collector. */
export function otlpMetricsEnabled(config: Config): boolean {
  return config.otel.metricsExporter.split(',').some((name) => name.trim() === 'otlp');
}

/** `a=b,c=d` (values percent-encoded) as a map; entries without a key are refused by the config. */
export function parseKeyValueList(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of text.split(',')) {
    const eq = pair.indexOf('=');
    if (eq <= 0) continue;
    out[pair.slice(0, eq).trim()] = decodeURIComponent(pair.slice(eq + 1).trim());
  }
  return out;
}

export function otlpTarget(config: Config, signal: OtlpSignal): OtlpTarget {
  const { otel } = config;
  const protocol = (signal === 'metrics' ? otel.exporterOtlpMetricsProtocol : otel.exporterOtlpTracesProtocol) || otel.exporterOtlpProtocol;
  const own = signal === 'metrics' ? otel.exporterOtlpMetricsEndpoint : otel.exporterOtlpTracesEndpoint;
  const base = otel.exporterOtlpEndpoint || (protocol === 'grpc' ? 'http://localhost:4317' : 'http://localhost:4318');
  // A signal's own endpoint is used as given; the shared one gets the signal's path for OTLP/HTTP.
  const url = own || (protocol === 'grpc' ? base : `${base.replace(/\/+$/, '')}/v1/${signal}`);
  return { protocol, url, headers: parseKeyValueList(otel.exporterOtlpHeaders) };
}

/**
 * The resource of every span and metric point of a process: OTEL_RESOURCE_ATTRIBUTES (the chart
 * puts the pod, namespace, release and role there), then service.name ledgerflow-<role>, which
 * the dashboards' job label depends on, and this host and process where not given.
 */
export function resourceAttributes(config: Config, role: string): Record<string, string | number> {
  const given = parseKeyValueList(config.otel.resourceAttributes);
  return {
    'service.instance.id': `${os.hostname()}/${process.pid}`,
    'host.name': os.hostname(),
    'process.pid': process.pid,
    'process.runtime.name': 'nodejs',
    'process.runtime.version': process.versions.node,
    ...given,
    'service.name': `ledgerflow-${role}`,
  };
}
