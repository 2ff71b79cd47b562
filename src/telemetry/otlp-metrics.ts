import { ValueType, type Attributes, type HrTime } from '@opentelemetry/api';
import { ExportResultCode, millisToHrTime } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AggregationTemporality,
  DataPointType,
  MeterProvider,
  PeriodicExportingMetricReader,
  type CollectionResult,
  type DataPoint,
  type Histogram,
  type MetricData,
  type MetricProducer,
  type PushMetricExporter,
} from '@opentelemetry/sdk-metrics';
import type { MetricObjectWithValues, MetricValue, MetricValueWithName, Registry } from 'prom-client';
import type { Config } from '../config';
import { prometheusLabelName, specOfPrometheusName, type MetricSpec, type OtelKind } from './metric-names';
import { exportNewRegistries, exportedRegistries, SPEC_BY_PROMETHEUS_NAME } from './metrics';
import { otlpTarget, resourceAttributes } from './otlp';

/**
 * The OTLP metric export: a MetricProducer that reads the process's prom-client registries at each
 * export and hands their values, cumulative as they are, to the OpenTelemetry SDK's periodic
 * reader and OTLP exporter. The same instruments feed /metrics and OTLP, so the two cannot
 * drift; nothing is added to the per-event path (docs/decisions/023-otlp-metrics.md). The CLI
 * loads this module only when OTEL_METRICS_EXPORTER names otlp.
 */

type PromMetric = MetricObjectWithValues<MetricValue<string> | MetricValueWithName<string>>;

const PROM_KINDS: Record<string, OtelKind | undefined> = { counter: 'counter', gauge: 'gauge', histogram: 'histogram' };

function specOf(metric: PromMetric): MetricSpec | undefined {
  const kind = PROM_KINDS[metric.type];
  if (!kind) return undefined; // summaries: none of ours; prom-client's defaults have none either
  return SPEC_BY_PROMETHEUS_NAME.get(metric.name) ?? specOfPrometheusName(metric.name, kind, metric.help);
}

/** Prometheus labels back to the spec's attribute keys; other labels (process) pass as they are. */
function attributesOf(spec: MetricSpec, labels: Partial<Record<string, string | number>>): Attributes {
  const keyOf = new Map((spec.attributes ?? []).map((key) => [prometheusLabelName(key), key]));
  const out: Attributes = {};
  for (const [label, value] of Object.entries(labels)) {
    if (label === 'le' || value === undefined) continue;
    out[keyOf.get(label) ?? label] = value;
  }
  return out;
}

/** prom-client's cumulative `le` buckets, _sum and _count of one label set, as one histogram point. */
function histogramPoints(spec: MetricSpec, values: PromMetric['values'], startTime: HrTime, endTime: HrTime): DataPoint<Histogram>[] {
  const series = new Map<string, { attributes: Attributes; buckets: Array<[number, number]>; sum: number; count: number }>();
  for (const v of values) {
    const attributes = attributesOf(spec, v.labels);
    const key = JSON.stringify(Object.entries(attributes).sort(([a], [b]) => a.localeCompare(b)));
    const entry = series.get(key) ?? { attributes, buckets: [], sum: 0, count: 0 };
    series.set(key, entry);
    const name = (v as MetricValueWithName<string>).metricName ?? '';
    if (name.endsWith('_bucket') && v.labels.le !== '+Inf') entry.buckets.push([Number(v.labels.le), v.value]);
    else if (name.endsWith('_sum')) entry.sum = v.value;
    else if (name.endsWith('_count')) entry.count = v.value;
  }
  return [...series.values()].map(({ attributes, buckets, sum, count }) => {
    buckets.sort(([a], [b]) => a - b);
    const counts = buckets.map(([, cumulative], i) => cumulative - (i > 0 ? (buckets[i - 1] as [number, number])[1] : 0));
    counts.push(count - (buckets.length > 0 ? (buckets[buckets.length - 1] as [number, number])[1] : 0));
    return { startTime, endTime, attributes, value: { buckets: { boundaries: buckets.map(([le]) => le), counts }, sum, count } };
  });
}

/** One prom-client metric as OTLP metric data (cumulative, like the Prometheus values). */
export function metricDataOf(metric: PromMetric, startTime: HrTime, endTime: HrTime): MetricData | undefined {
  const spec = specOf(metric);
  if (!spec) return undefined;
  const descriptor = { name: spec.name, description: spec.description, unit: spec.unit, valueType: ValueType.DOUBLE };
  const aggregationTemporality = AggregationTemporality.CUMULATIVE;
  if (spec.kind === 'histogram') {
    return { descriptor, aggregationTemporality, dataPointType: DataPointType.HISTOGRAM, dataPoints: histogramPoints(spec, metric.values, startTime, endTime) };
  }
  const dataPoints = metric.values.map((v) => ({ startTime, endTime, attributes: attributesOf(spec, v.labels), value: v.value }));
  if (spec.kind === 'gauge') return { descriptor, aggregationTemporality, dataPointType: DataPointType.GAUGE, dataPoints };
  return { descriptor, aggregationTemporality, dataPointType: DataPointType.SUM, isMonotonic: spec.kind === 'counter', dataPoints };
}

/** Metrics of several registries (the demo runs every process in one), merged by name. */
export async function collectRegistries(registries: Iterable<{ registry: Registry; createdAtMs: number }>, nowMs = Date.now()): Promise<MetricData[]> {
  const byName = new Map<string, MetricData>();
  const endTime = millisToHrTime(nowMs);
  for (const { registry, createdAtMs } of registries) {
    for (const metric of (await registry.getMetricsAsJSON()) as PromMetric[]) {
      const data = metricDataOf(metric, millisToHrTime(createdAtMs), endTime);
      if (!data) continue;
      const seen = byName.get(data.descriptor.name);
      if (seen) (seen.dataPoints as DataPoint<unknown>[]).push(...(data.dataPoints as DataPoint<unknown>[]));
      else byName.set(data.descriptor.name, data);
    }
  }
  return [...byName.values()];
}

const SCOPE = { name: 'ledgerflow' };

class RegistryProducer implements MetricProducer {
  async collect(): Promise<CollectionResult> {
    const metrics = await collectRegistries(exportedRegistries());
    // The reader replaces this resource with its provider's.
    return { resourceMetrics: { resource: resourceFromAttributes({}), scopeMetrics: [{ scope: SCOPE, metrics }] }, errors: [] };
  }
}

function exporterOf(config: Config): PushMetricExporter {
  const { protocol, url, headers } = otlpTarget(config, 'metrics');
  const options = { url, headers, timeoutMillis: config.otel.metricExportTimeoutMs };
  switch (protocol) {
    case 'grpc':
      return new (require('@opentelemetry/exporter-metrics-otlp-grpc') as typeof import('@opentelemetry/exporter-metrics-otlp-grpc')).OTLPMetricExporter(options);
    case 'http/json':
      return new (require('@opentelemetry/exporter-metrics-otlp-http') as typeof import('@opentelemetry/exporter-metrics-otlp-http')).OTLPMetricExporter(options);
    default:
      return new (require('@opentelemetry/exporter-metrics-otlp-proto') as typeof import('@opentelemetry/exporter-metrics-otlp-proto')).OTLPMetricExporter(options);
  }
}

let provider: MeterProvider | undefined;
const WARN_EVERY_MS = 60_000;

/** The exporter, telling the log when an export fails (collector down, refused), at most once a minute. */
function warnOnFailure(exporter: PushMetricExporter, warn: (message: string) => void): PushMetricExporter {
  let lastWarnMs = 0;
  return {
    export: (metrics, done) =>
      exporter.export(metrics, (result) => {
        if (result.code !== ExportResultCode.SUCCESS && Date.now() - lastWarnMs >= WARN_EVERY_MS) {
          lastWarnMs = Date.now();
          warn(`OTLP metrics export failed (logged at most once a minute): ${result.error?.message ?? 'unknown error'}`);
        }
        done(result);
      }),
    forceFlush: () => exporter.forceFlush(),
    shutdown: () => exporter.shutdown(),
    ...(exporter.selectAggregationTemporality ? { selectAggregationTemporality: exporter.selectAggregationTemporality.bind(exporter) } : {}),
    ...(exporter.selectAggregation ? { selectAggregation: exporter.selectAggregation.bind(exporter) } : {}),
  };
}

/**
 * Starts the periodic OTLP export for the process `role` (once per process); every metrics
 * registry created from now on is exported. The provider is not made global: the
 * auto-instrumentations (tracing) would otherwise record HTTP and database metrics of their own
 * under the same names.
 */
export function startMetricsExport(config: Config, role: string, warn: (message: string) => void = () => undefined): void {
  if (provider) return;
  exportNewRegistries(true);
  const reader = new PeriodicExportingMetricReader({
    exporter: warnOnFailure(exporterOf(config), warn),
    exportIntervalMillis: config.otel.metricExportIntervalMs,
    exportTimeoutMillis: Math.min(config.otel.metricExportTimeoutMs, config.otel.metricExportIntervalMs),
    metricProducers: [new RegistryProducer()],
  });
  provider = new MeterProvider({ resource: resourceFromAttributes(resourceAttributes(config, role)), readers: [reader] });
}

/** Exports once more (the values since the last export) and stops; called before the process exits. */
export async function stopMetricsExport(): Promise<void> {
  const running = provider;
  provider = undefined;
  try {
    await running?.shutdown();
  } finally {
    exportNewRegistries(false);
  }
}
