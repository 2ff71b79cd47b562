/**
 * What exporting metrics over OTLP costs the consumer's hot path, for docs/decisions/016: CPU per
 * batch of the consumer's metric updates (500 events: one produce→commit observation per event,
 * the per-batch histograms and counters) with
 *   prom-client   the instruments as they are, /metrics only
 *   +otlp         the same, plus the OTLP export of the registry every --interval-ms to a local sink
 *   otel-sdk      the same updates through OpenTelemetry SDK instruments (the alternative)
 * and the CPU of one export. One process, one core; run it on a quiet machine for stable figures.
 *
 *   npx tsx src/bench/metrics-cost.ts [--batches 4000] [--events 500] [--interval-ms 1000] [--rounds 3]
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { loadConfig } from '../config';
import { batchProcessLabels, createMetrics, METRICS, type Metrics } from '../telemetry/metrics';
import { collectRegistries, startMetricsExport, stopMetricsExport } from '../telemetry/otlp-metrics';

const USAGE = 'usage: npx tsx src/bench/metrics-cost.ts [--batches N] [--events N] [--interval-ms MS] [--rounds N]';

const labels = batchProcessLabels('transactions', 'ledgerflow');

/** One batch's updates, as the consumer makes them after its commit. */
function promBatch(m: Metrics, events: number, i: number): void {
  m.batchSize.observe(events);
  m.batchDuration.observe(labels, 0.05 + (i % 7) / 100);
  m.batches.inc({ partition: i % 3 });
  m.eventsConsumed.inc({ topic: 'transactions', partition: i % 3 }, events);
  for (let e = 0; e < events; e++) m.produceToCommit.observe(0.1 + ((i + e) % 90) / 100);
}

function otelInstruments() {
  const provider = new MeterProvider({ readers: [new PeriodicExportingMetricReader({ exporter: new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE), exportIntervalMillis: 3_600_000 })] });
  const meter = provider.getMeter('cost');
  const histogram = (spec: { name: string; unit: string; buckets?: readonly number[] }) =>
    meter.createHistogram(spec.name, { unit: spec.unit, advice: { explicitBucketBoundaries: [...(spec.buckets ?? [])] } });
  const otelLabels = { 'messaging.system': 'kafka', 'messaging.operation.name': 'process', 'messaging.destination.name': 'transactions', 'messaging.consumer.group.name': 'ledgerflow' };
  const size = histogram(METRICS.batchSize);
  const duration = histogram(METRICS.batchDuration);
  const produceToCommit = histogram(METRICS.produceToCommit);
  const batches = meter.createCounter(METRICS.batches.name);
  const consumed = meter.createCounter(METRICS.eventsConsumed.name);
  return (events: number, i: number) => {
    size.record(events);
    duration.record(0.05 + (i % 7) / 100, otelLabels);
    batches.add(1, { partition: i % 3 });
    consumed.add(events, { topic: 'transactions', partition: i % 3 });
    for (let e = 0; e < events; e++) produceToCommit.record(0.1 + ((i + e) % 90) / 100);
  };
}

/** An OTLP/HTTP endpoint that accepts and drops every export: the exporter's side of the cost only. */
async function startSink(): Promise<{ url: string; exports: () => number; close(): Promise<void> }> {
  let count = 0;
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      count += 1;
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    exports: () => count,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/**
 * Runs `batches` batches in slices, yielding between them so an export timer can fire; returns the
 * process's whole CPU over the run, exports included (nothing else runs in this process).
 */
async function timedBatches(batches: number, run: (i: number) => void): Promise<number> {
  const start = process.cpuUsage();
  for (let i = 0; i < batches; i += 100) {
    for (let j = i; j < Math.min(batches, i + 100); j++) run(j);
    await new Promise((r) => setImmediate(r));
  }
  const used = process.cpuUsage(start);
  return used.user + used.system;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { batches: { type: 'string' }, events: { type: 'string' }, 'interval-ms': { type: 'string' }, rounds: { type: 'string' }, help: { type: 'boolean' } },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const int = (v: string | undefined, fallback: number, name: string) => {
    const n = v === undefined ? fallback : Number(v);
    if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer`);
    return n;
  };
  const batches = int(values.batches, 4000, 'batches');
  const events = int(values.events, 500, 'events');
  const intervalMs = int(values['interval-ms'], 1000, 'interval-ms');
  const rounds = int(values.rounds, 3, 'rounds');
  const sink = await startSink();
  const config = loadConfig({}, { OTEL_METRICS_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_ENDPOINT: sink.url, OTEL_METRIC_EXPORT_INTERVAL: String(intervalMs) });
  const perBatch = (us: number) => Math.round((us / batches) * 10) / 10;
  const results: Array<Record<string, number>> = [];
  for (let round = 0; round < rounds; round++) {
    const plain = createMetrics('consumer');
    const promClient = await timedBatches(batches, (i) => promBatch(plain, events, i));
    startMetricsExport(config, 'consumer');
    const exported = createMetrics('consumer');
    const exportsBefore = sink.exports();
    const startedMs = Date.now();
    const withOtlp = await timedBatches(batches, (i) => promBatch(exported, events, i));
    const elapsedMs = Date.now() - startedMs;
    // One collection's own CPU: read and convert the registry (the reader then encodes and posts it).
    const collectStart = process.cpuUsage();
    await collectRegistries([{ registry: exported.registry, createdAtMs: startedMs }]);
    const collected = process.cpuUsage(collectStart);
    const oneCollect = collected.user + collected.system;
    await stopMetricsExport();
    const otel = otelInstruments();
    const otelSdk = await timedBatches(batches, (i) => otel(events, i));
    results.push({
      round,
      promClientUsPerBatch: perBatch(promClient),
      withOtlpUsPerBatch: perBatch(withOtlp),
      otelSdkUsPerBatch: perBatch(otelSdk),
      exportsDuringRun: sink.exports() - exportsBefore,
      runMs: elapsedMs,
      collectCallUs: oneCollect,
    });
  }
  await sink.close();
  process.stdout.write(`${JSON.stringify({ batches, eventsPerBatch: events, intervalMs, results }, null, 2)}\n`);
}

main().catch((err: Error) => {
  process.stderr.write(`metrics-cost: ${err.message.split('. ')[0]} (--help for usage)\n`);
  process.exit(2);
});
