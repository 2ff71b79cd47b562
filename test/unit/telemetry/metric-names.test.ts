/**
 * One name per metric: /metrics shows each metric under the name an OpenTelemetry Collector gives
 * the same metric received over OTLP, and the OTLP export carries the OpenTelemetry name back.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { millisToHrTime } from '@opentelemetry/core';
import { DataPointType } from '@opentelemetry/sdk-metrics';
import { prometheusLabelName, prometheusMetricName } from '../../../src/telemetry/metric-names';
import { batchProcessLabels, createMetrics, METRICS } from '../../../src/telemetry/metrics';
import { collectRegistries } from '../../../src/telemetry/otlp-metrics';

test('the translation follows the OpenTelemetry-to-Prometheus rules of a collector', () => {
  const cases: Array<[string, string, 'counter' | 'updowncounter' | 'gauge' | 'histogram', string]> = [
    ['http.server.request.duration', 's', 'histogram', 'http_server_request_duration_seconds'],
    ['ledgerflow.events.consumed', '{event}', 'counter', 'ledgerflow_events_consumed_total'],
    ['db.client.connection.count', '{connection}', 'updowncounter', 'db_client_connection_count'],
    ['system.memory.usage', 'By', 'gauge', 'system_memory_usage_bytes'],
    ['system.cpu.utilization', '1', 'gauge', 'system_cpu_utilization_ratio'],
    ['process_cpu_seconds', 's', 'counter', 'process_cpu_seconds_total'],
    ['requests.total', '{request}', 'counter', 'requests_total'],
    ['net.io', 'By/s', 'gauge', 'net_io_bytes_per_second'],
    ['2xx.responses', '', 'counter', '_2xx_responses_total'],
  ];
  for (const [name, unit, kind, expected] of cases) assert.equal(prometheusMetricName({ name, unit, kind }), expected, name);
  assert.equal(prometheusLabelName('db.client.connection.pool.name'), 'db_client_connection_pool_name');
  assert.equal(prometheusLabelName('http.response.status_code'), 'http_response_status_code');
});

test('the series the dashboards and rules read keep their names (a rename must update every reader)', () => {
  const names = Object.fromEntries(Object.entries(METRICS).map(([key, spec]) => [key, prometheusMetricName(spec)]));
  assert.deepEqual(names, {
    eventsProduced: 'ledgerflow_events_produced_total',
    eventsConsumed: 'ledgerflow_events_consumed_total',
    dlqEvents: 'ledgerflow_dlq_events_total',
    batches: 'ledgerflow_batches_total',
    batchSize: 'ledgerflow_batch_size',
    batchDuration: 'messaging_process_duration_seconds',
    applyDuration: 'ledgerflow_apply_duration_seconds',
    transactionsStored: 'ledgerflow_transactions_stored_total',
    duplicatesSkipped: 'ledgerflow_duplicates_skipped_total',
    produceToCommit: 'ledgerflow_produce_to_commit_seconds',
    activityFailures: 'ledgerflow_activity_failures_total',
    applyErrors: 'ledgerflow_apply_errors_total',
    parkedEvents: 'ledgerflow_parked_events_total',
    transfersReturned: 'ledgerflow_transfers_returned_total',
    idConflicts: 'ledgerflow_id_conflicts_total',
    storeRefusals: 'ledgerflow_store_refusals_total',
    consumerBatchAge: 'ledgerflow_consumer_batch_age_seconds',
    batchRetries: 'ledgerflow_batch_retries_total',
    consumerLag: 'ledgerflow_consumer_lag',
    taskQueueBacklog: 'ledgerflow_task_queue_backlog',
    topicPartitions: 'ledgerflow_kafka_topic_partitions',
    partitionCap: 'ledgerflow_consumer_partition_cap',
    undecodableBatch: 'ledgerflow_consumer_undecodable_batch_offset',
    fraudFlagged: 'ledgerflow_fraud_flagged_total',
    fraudReviews: 'ledgerflow_fraud_reviews_total',
    reviewsOpened: 'ledgerflow_fraud_reviews_opened_total',
    reviewsNotQueued: 'ledgerflow_fraud_reviews_not_queued_total',
    reviewQueueDepth: 'ledgerflow_fraud_review_queue_depth',
    reviewQueueMax: 'ledgerflow_fraud_review_queue_max',
    dbConnections: 'db_client_connection_count',
    dbConnectionsMax: 'db_client_connection_max',
    dbPendingRequests: 'db_client_connection_pending_requests',
    dbOperationDuration: 'db_client_operation_duration_seconds',
    dbTransactionDuration: 'ledgerflow_db_transaction_duration_seconds',
    httpServerDuration: 'http_server_request_duration_seconds',
    apiKeyReloadFailures: 'ledgerflow_api_key_reload_failures_total',
    idempotencyClaims: 'ledgerflow_api_idempotency_claims_total',
  });
});

test('every metric of a registry, process metrics included, goes out under a name that translates back to its /metrics name', async () => {
  const m = createMetrics('consumer');
  m.eventsConsumed.inc({ topic: 'transactions', partition: 2 }, 5);
  m.consumerLag.set({ topic: 'transactions', partition: 2 }, 9);
  m.batchDuration.observe(batchProcessLabels('transactions', 'ledgerflow'), 0.3);
  m.dbPools.add(() => ({ name: 'app@db:3306/ledgerflow', used: 1, idle: 2, max: 8, pending: 0 }));
  const exported = await collectRegistries([{ registry: m.registry, createdAtMs: Date.now() - 1000 }]);
  const ownNames = new Set((await m.registry.getMetricsAsJSON()).map((j) => j.name));
  const kindOf = (d: (typeof exported)[number]) =>
    d.dataPointType === DataPointType.SUM ? (d.isMonotonic ? 'counter' : 'updowncounter') : d.dataPointType === DataPointType.GAUGE ? 'gauge' : 'histogram';
  const translated = new Set(exported.map((d) => prometheusMetricName({ name: d.descriptor.name, unit: d.descriptor.unit, kind: kindOf(d) })));
  assert.deepEqual([...translated].sort(), [...ownNames].sort());
  assert.ok(ownNames.has('process_cpu_seconds_total') && ownNames.has('nodejs_eventloop_lag_p99_seconds'), 'process metrics are exported too');

  const byName = new Map(exported.map((d) => [d.descriptor.name, d]));
  const consumed = byName.get('ledgerflow.events.consumed');
  assert.equal(consumed?.dataPointType, DataPointType.SUM);
  assert.deepEqual(consumed?.dataPoints.map((p) => [p.attributes, p.value]), [[{ topic: 'transactions', partition: 2, process: 'consumer' }, 5]]);
  assert.equal(byName.get('ledgerflow.consumer.lag')?.dataPointType, DataPointType.GAUGE);
  const pool = byName.get('db.client.connection.count');
  assert.ok(pool?.dataPointType === DataPointType.SUM && !pool.isMonotonic, 'an up-down counter');
  assert.deepEqual(pool.dataPoints.map((p) => p.attributes['db.client.connection.state']).sort(), ['idle', 'used']);
  const processing = byName.get('messaging.process.duration');
  assert.equal(processing?.descriptor.unit, 's');
  assert.equal(processing?.dataPoints[0]?.attributes['messaging.destination.name'], 'transactions');
});

test('a histogram goes out as per-bucket counts with the same sum and count', async () => {
  const m = createMetrics('consumer');
  for (const seconds of [0.04, 0.3, 0.3, 0.9, 400]) m.produceToCommit.observe(seconds);
  const [data] = (await collectRegistries([{ registry: m.registry, createdAtMs: 0 }], 5_000)).filter((d) => d.descriptor.name === 'ledgerflow.produce_to_commit');
  assert.ok(data && data.dataPointType === DataPointType.HISTOGRAM);
  const point = data.dataPoints[0];
  assert.deepEqual(point?.value.buckets.boundaries, [...METRICS.produceToCommit.buckets]);
  // ≤0.05: 1; ≤0.5: 2 (0.3, 0.3); ≤1: 1 (0.9); above 300: 1 (400)
  const counts = point?.value.buckets.counts ?? [];
  assert.equal(counts.length, METRICS.produceToCommit.buckets.length + 1);
  assert.deepEqual([counts[0], counts[3], counts[5], counts[counts.length - 1]], [1, 2, 1, 1]);
  assert.equal(counts.reduce((a, b) => a + b, 0), 5);
  assert.equal(point?.value.count, 5);
  assert.ok(Math.abs((point?.value.sum ?? 0) - 401.54) < 1e-9);
  assert.deepEqual(point?.startTime, millisToHrTime(0));
  assert.deepEqual(point?.endTime, millisToHrTime(5_000));
});
