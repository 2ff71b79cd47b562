/** The standard OTEL_* settings resolve to exporter targets as the OpenTelemetry specification says. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '../../../src/config';
import { otlpMetricsEnabled, otlpTarget, parseKeyValueList, resourceAttributes } from '../../../src/telemetry/otlp';
import { temporalMetricsOptions } from '../../../src/telemetry/temporal-metrics';

test('metrics go over OTLP only when OTEL_METRICS_EXPORTER names otlp', () => {
  assert.equal(otlpMetricsEnabled(loadConfig({}, {})), false);
  assert.equal(otlpMetricsEnabled(loadConfig({}, { OTEL_METRICS_EXPORTER: 'none' })), false);
  assert.equal(otlpMetricsEnabled(loadConfig({}, { OTEL_METRICS_EXPORTER: 'prometheus, otlp' })), true);
});

test('endpoints: a signal’s own URL as given, else the shared one with the signal path (OTLP/HTTP) or as is (gRPC)', () => {
  const base = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' };
  assert.equal(otlpTarget(loadConfig({}, base), 'metrics').url, 'http://collector:4318/v1/metrics');
  assert.equal(otlpTarget(loadConfig({}, base), 'traces').url, 'http://collector:4318/v1/traces');
  const own = loadConfig({}, { ...base, OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'https://metrics.example/ingest' });
  assert.equal(otlpTarget(own, 'metrics').url, 'https://metrics.example/ingest');
  const grpc = loadConfig({}, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4317', OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'grpc' });
  assert.deepEqual([otlpTarget(grpc, 'metrics').protocol, otlpTarget(grpc, 'metrics').url], ['grpc', 'http://collector:4317']);
  assert.equal(otlpTarget(grpc, 'traces').protocol, 'http/protobuf');
  assert.equal(otlpTarget(loadConfig({}, {}), 'metrics').url, 'http://localhost:4318/v1/metrics');
});

test('headers and resource attributes are key=value lists with percent-encoded values', () => {
  assert.deepEqual(parseKeyValueList('api-key=a%2Cb%3Dc, x = y ,'), { 'api-key': 'a,b=c', x: 'y' });
  const config = loadConfig({}, { OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20t' });
  assert.deepEqual(otlpTarget(config, 'metrics').headers, { authorization: 'Bearer t' });
});

test('the resource: given attributes win over the defaults, except service.name, which is the role', () => {
  const config = loadConfig({}, { OTEL_RESOURCE_ATTRIBUTES: 'service.instance.id=pod-1,service.name=other,k8s.pod.name=pod-1' });
  const attrs = resourceAttributes(config, 'consumer');
  assert.equal(attrs['service.name'], 'ledgerflow-consumer');
  assert.equal(attrs['service.instance.id'], 'pod-1');
  assert.equal(attrs['k8s.pod.name'], 'pod-1');
  assert.equal(attrs['process.pid'], process.pid);
});

test('the Temporal SDK exports OTLP to the same collector when metrics do, else serves its Prometheus endpoint', () => {
  const otlp = temporalMetricsOptions(loadConfig({}, { OTEL_METRICS_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_METRIC_EXPORT_INTERVAL: '15000' }));
  assert.deepEqual(otlp, { otel: { url: 'http://c:4318/v1/metrics', http: true, headers: {}, metricsExportInterval: 15000, useSecondsForDurations: true, temporality: 'cumulative' } });
  const prom = temporalMetricsOptions(loadConfig({}, { LF_WORKER_SDK_METRICS_PORT: '9999' }));
  assert.ok(prom && 'prometheus' in prom && prom.prometheus.bindAddress === '127.0.0.1:9999');
  assert.equal(temporalMetricsOptions(loadConfig({}, { LF_WORKER_SDK_METRICS_PORT: '0' })), undefined);
});

test('a failed metrics export is reported to the log, and the export still stops', async () => {
  const { freePort } = await import('../../../src/stack/process');
  const { createMetrics } = await import('../../../src/telemetry/metrics');
  const { startMetricsExport, stopMetricsExport } = await import('../../../src/telemetry/otlp-metrics');
  // Nothing listens there: the final export on stop is refused.
  const config = loadConfig({}, { OTEL_METRICS_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${await freePort()}`, OTEL_METRIC_EXPORT_TIMEOUT: '2000' });
  const warnings: string[] = [];
  startMetricsExport(config, 'consumer', (message) => warnings.push(message));
  createMetrics('consumer').eventsConsumed.inc({ topic: 't', partition: 0 }, 3);
  await stopMetricsExport();
  assert.equal(warnings.length, 1, warnings.join('\n'));
  assert.match(warnings[0] ?? '', /^OTLP metrics export failed/);
});
