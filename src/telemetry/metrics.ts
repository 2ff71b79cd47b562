import client from 'prom-client';
import { prometheusLabelName, prometheusMetricName, type MetricSpec } from './metric-names';

/**
 * One registry per process and the metrics of the whole project in one place. Each metric is
 * declared once with its OpenTelemetry name, unit and attributes (semantic-convention names for
 * messaging processing, database client and HTTP server metrics); /metrics shows it under the
 * Prometheus name a collector derives from those, and src/telemetry/otlp-metrics.ts exports the
 * same values over OTLP (docs/decisions/023-otlp-metrics.md).
 */

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2.5, 5, 10, 30];

export const METRICS = {
  eventsProduced: {
    name: 'ledgerflow.events.produced',
    unit: '{event}',
    kind: 'counter',
    description: 'Events written to Kafka by this process, by partition and kind (valid or malformed synthetic events, http ingest).',
    attributes: ['topic', 'partition', 'kind'],
  },
  eventsConsumed: {
    name: 'ledgerflow.events.consumed',
    unit: '{event}',
    kind: 'counter',
    description: 'Events read from Kafka and handed on (workflow or DLQ), counted when their offsets are committed.',
    attributes: ['topic', 'partition'],
  },
  dlqEvents: {
    name: 'ledgerflow.dlq.events',
    unit: '{event}',
    kind: 'counter',
    description: 'Malformed events sent to the dead-letter topic, by the field at fault.',
    attributes: ['field'],
  },
  batches: {
    name: 'ledgerflow.batches',
    unit: '{batch}',
    kind: 'counter',
    description: 'Batches completed (workflow finished and offsets committed).',
    attributes: ['partition'],
  },
  batchSize: {
    name: 'ledgerflow.batch.size',
    unit: '{event}',
    kind: 'histogram',
    description: 'Events per batch.',
    buckets: [1, 10, 50, 100, 250, 500, 1000, 2000, 5000],
  },
  batchDuration: {
    name: 'messaging.process.duration',
    unit: 's',
    kind: 'histogram',
    description: 'Processing of one consumed batch, from its workflow start to its offset commit.',
    attributes: ['messaging.system', 'messaging.operation.name', 'messaging.destination.name', 'messaging.consumer.group.name'],
    buckets: LATENCY_BUCKETS,
  },
  applyDuration: {
    name: 'ledgerflow.apply.duration',
    unit: 's',
    kind: 'histogram',
    description: 'Duration of the applyBatch database transaction.',
    buckets: LATENCY_BUCKETS,
  },
  transactionsStored: {
    name: 'ledgerflow.transactions.stored',
    unit: '{transaction}',
    kind: 'counter',
    description: 'Transactions inserted, by status and rejection reason.',
    attributes: ['status', 'reason'],
  },
  duplicatesSkipped: {
    name: 'ledgerflow.duplicates.skipped',
    unit: '{event}',
    kind: 'counter',
    description: 'Events already stored when their batch was applied (replays, duplicate sends).',
  },
  produceToCommit: {
    name: 'ledgerflow.produce_to_commit',
    unit: 's',
    kind: 'histogram',
    description: 'From the Kafka message timestamp (produce time) to the offset commit after its batch was applied.',
    // Fine around the 1 s target: p99 is interpolated within a bucket.
    buckets: [0.05, 0.1, 0.25, 0.5, 0.75, 1, 1.25, 1.5, 2, 3, 5, 10, 30, 60, 300],
  },
  activityFailures: {
    name: 'ledgerflow.activity.failures',
    unit: '{attempt}',
    kind: 'counter',
    description: 'Activity attempts that failed (and will be retried), by activity and error code.',
    attributes: ['activity', 'code'],
  },
  applyErrors: {
    name: 'ledgerflow.apply.errors',
    unit: '{error}',
    kind: 'counter',
    description: 'Failed database tries of a batch or of a part of it (quick retries and isolation steps included), by class (transient, systemic, deterministic, unknown) and error code.',
    attributes: ['class', 'code'],
  },
  parkedEvents: {
    name: 'ledgerflow.parked.events',
    unit: '{event}',
    kind: 'counter',
    description: 'Events the store refused for a lasting non-business reason, isolated from their batch and parked (ledgerflow parked list), by error code.',
    attributes: ['code'],
  },
  transfersReturned: {
    name: 'ledgerflow.transfers.returned',
    unit: '{transfer}',
    kind: 'counter',
    description: 'Transfers from another partition whose credit would have taken the receiving balance past its column: rejected (balance_overflow) when the receiver folded them, the amount returned to the sender.',
  },
  idConflicts: {
    name: 'ledgerflow.id.conflicts',
    unit: '{event}',
    kind: 'counter',
    description: 'Events whose transaction id was stored with other content, recorded as conflicts (ledgerflow conflicts list), by outcome: arrived_later (not stored) or superseded (the stored row replaced by a variant from an earlier position).',
    attributes: ['outcome'],
  },
  storeRefusals: {
    name: 'ledgerflow.store.refusals',
    unit: '{attempt}',
    kind: 'counter',
    description: 'Batch attempts held back because the store refused a plain credit too (a systemic fault: nothing parked, retried with backoff), by error code.',
    attributes: ['code'],
  },
  consumerBatchAge: {
    name: 'ledgerflow.consumer.batch.age',
    unit: 's',
    kind: 'gauge',
    description: 'How long the batch in flight of each partition has waited for its workflow (0 when none); refreshed every few seconds. A partition stalled behind a batch shows here before its lag grows.',
    attributes: ['topic', 'partition'],
  },
  batchRetries: {
    name: 'ledgerflow.batch.retries',
    unit: '{batch}',
    kind: 'counter',
    description: 'Batches whose workflow failed (or could not be started), so the consumer fetched their offsets again, by partition.',
    attributes: ['partition'],
  },
  consumerLag: {
    name: 'ledgerflow.consumer.lag',
    unit: '{event}',
    kind: 'gauge',
    description: 'High watermark minus the committed offset of the consumer group, per partition, refreshed on a timer.',
    attributes: ['topic', 'partition'],
  },
  taskQueueBacklog: {
    name: 'ledgerflow.task_queue.backlog',
    unit: '{task}',
    kind: 'gauge',
    description: "Tasks waiting in the worker's Temporal task queue (Temporal's approximate backlog), per queue type; every worker reports the same queue: take the max across pods.",
    attributes: ['task_queue', 'queue_type'],
  },
  topicPartitions: {
    name: 'ledgerflow.kafka.topic.partitions',
    unit: '{partition}',
    kind: 'gauge',
    description: 'Partitions the topic has on the broker, refreshed with the lag (docs/decisions/028-autoscaling-signals.md).',
    attributes: ['topic'],
  },
  partitionCap: {
    name: 'ledgerflow.consumer.partition_cap',
    unit: '{partition}',
    kind: 'gauge',
    description: 'kafka.partitions: the consumer replica cap the deployment was sized for; above ledgerflow_kafka_topic_partitions, consumers up to the cap would idle, and readiness is refused.',
    attributes: ['topic'],
  },
  undecodableBatch: {
    name: 'ledgerflow.consumer.undecodable_batch.offset',
    unit: '{offset}',
    kind: 'gauge',
    description: 'Offset of a record batch the consumer cannot decode, per partition: the partition is stuck there until an operator acts (set just before the consumer exits).',
    attributes: ['topic', 'partition'],
  },
  reviewsOpened: {
    name: 'ledgerflow.fraud.reviews.opened',
    unit: '{review}',
    kind: 'counter',
    description: 'Fraud reviews opened (each a reviewTransaction workflow waiting for a person).',
  },
  reviewsNotQueued: {
    name: 'ledgerflow.fraud.reviews.not_queued',
    unit: '{transaction}',
    kind: 'counter',
    description: 'Transactions that scored for review but were left as flags: batch_limit (over fraud.reviewOpensPerBatchMax in one batch) or queue_full (fraud.reviewQueueMax undecided reviews).',
    attributes: ['reason'],
  },
  reviewQueueDepth: {
    name: 'ledgerflow.fraud.review_queue.depth',
    unit: '{review}',
    kind: 'gauge',
    description: 'Undecided (open or escalated) fraud reviews, as the last batch with review candidates saw them.',
  },
  reviewQueueMax: {
    name: 'ledgerflow.fraud.review_queue.max',
    unit: '{review}',
    kind: 'gauge',
    description: "The review queue's limit (fraud.reviewQueueMax).",
  },
  fraudFlagged: {
    name: 'ledgerflow.fraud.flagged',
    unit: '{transaction}',
    kind: 'counter',
    description: 'Newly stored transactions the fraud detector flagged (score and reasons in fraud_flags).',
  },
  fraudReviews: {
    name: 'ledgerflow.fraud.reviews',
    unit: '{review}',
    kind: 'counter',
    description: 'Human reviews opened (reviewTransaction workflows started) for flagged transactions.',
  },
  dbConnections: {
    name: 'db.client.connection.count',
    unit: '{connection}',
    kind: 'updowncounter',
    description: 'Open connections of the database pool: used (checked out) or idle (open and free).',
    attributes: ['db.client.connection.pool.name', 'db.client.connection.state'],
  },
  dbConnectionsMax: {
    name: 'db.client.connection.max',
    unit: '{connection}',
    kind: 'updowncounter',
    description: 'Most connections the database pool may open.',
    attributes: ['db.client.connection.pool.name'],
  },
  dbPendingRequests: {
    name: 'db.client.connection.pending_requests',
    unit: '{request}',
    kind: 'updowncounter',
    description: 'Requests waiting for a free database connection (the pool is exhausted while above 0).',
    attributes: ['db.client.connection.pool.name'],
  },
  dbOperationDuration: {
    name: 'db.client.operation.duration',
    unit: 's',
    kind: 'histogram',
    description: 'Database statements, from send to result, by SQL operation (first keyword); error.type on failure.',
    attributes: ['db.system.name', 'db.operation.name', 'error.type'],
    // Finer than the convention's advice below 5 ms: most statements here take about 1 ms.
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  },
  dbTransactionDuration: {
    name: 'ledgerflow.db.transaction.duration',
    unit: 's',
    kind: 'histogram',
    description: 'Database transactions, from taking a connection to commit or rollback, by outcome.',
    attributes: ['outcome'],
    buckets: LATENCY_BUCKETS,
  },
  httpServerDuration: {
    name: 'http.server.request.duration',
    unit: 's',
    kind: 'histogram',
    description: 'HTTP requests answered, by method, route and status code.',
    attributes: ['http.request.method', 'url.scheme', 'http.route', 'http.response.status_code'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10],
  },
  apiKeyReloadFailures: {
    name: 'ledgerflow.api.key_reload.failures',
    unit: '{reload}',
    kind: 'counter',
    description: 'Re-reads of the api key set that failed (unreadable or invalid file); the last good key set stays in force.',
  },
  idempotencyClaims: {
    name: 'ledgerflow.api.idempotency.claims',
    unit: '{request}',
    kind: 'counter',
    description: 'POST /transactions by what its Idempotency-Key found: owner (first or taken over), replay, conflict (422), in_flight (409).',
    attributes: ['outcome'],
  },
} as const satisfies Record<string, MetricSpec>;

/** The spec of each of our metrics by its Prometheus name (the OTLP export reads it). */
export const SPEC_BY_PROMETHEUS_NAME: ReadonlyMap<string, MetricSpec> = new Map(
  Object.values(METRICS).map((spec: MetricSpec) => [prometheusMetricName(spec), spec]),
);

/** What a database pool reports when scraped (see observePool in src/store/pool.ts). */
export interface DbPoolUsage {
  name: string;
  used: number;
  idle: number;
  max: number;
  pending: number;
}

/** The labels of a histogram or counter, keyed by Prometheus label name. */
type Labels = Partial<Record<string, string | number>>;

function options(spec: MetricSpec, registry: client.Registry) {
  return { name: prometheusMetricName(spec), help: spec.description, labelNames: (spec.attributes ?? []).map(prometheusLabelName), registers: [registry] };
}
const counter = (spec: MetricSpec, registry: client.Registry) => new client.Counter<string>(options(spec, registry));
const histogram = (spec: MetricSpec, registry: client.Registry) => new client.Histogram<string>({ ...options(spec, registry), buckets: [...(spec.buckets ?? [])] });
const gauge = (spec: MetricSpec, registry: client.Registry, collect?: (g: client.Gauge<string>) => void) =>
  new client.Gauge<string>({
    ...options(spec, registry),
    // Reset first: a pool that was closed since the last read leaves no stale series behind.
    ...(collect ? { collect(this: client.Gauge<string>) { this.reset(); collect(this); } } : {}),
  });

/** Registries created while an OTLP export runs in this process (it reads them at each export). */
const exported = { on: false, registries: new Set<{ registry: client.Registry; createdAtMs: number }>() };
export const exportedRegistries = (): ReadonlySet<{ registry: client.Registry; createdAtMs: number }> => exported.registries;
export function exportNewRegistries(on: boolean): void {
  exported.on = on;
  if (!on) exported.registries.clear();
}

export function createMetrics(processName: string) {
  const registry = new client.Registry();
  /** Pools of this process, read at scrape time. */
  const dbPools = new Set<() => DbPoolUsage>();
  registry.setDefaultLabels({ process: processName });
  client.collectDefaultMetrics({ register: registry });
  if (exported.on) exported.registries.add({ registry, createdAtMs: Date.now() });
  const poolName = prometheusLabelName('db.client.connection.pool.name');
  const eachPool = (set: (usage: DbPoolUsage) => void) => {
    for (const usage of dbPools) set(usage());
  };
  return {
    registry,
    eventsProduced: counter(METRICS.eventsProduced, registry),
    eventsConsumed: counter(METRICS.eventsConsumed, registry),
    dlqEvents: counter(METRICS.dlqEvents, registry),
    batches: counter(METRICS.batches, registry),
    batchSize: histogram(METRICS.batchSize, registry),
    batchDuration: histogram(METRICS.batchDuration, registry),
    applyDuration: histogram(METRICS.applyDuration, registry),
    transactionsStored: counter(METRICS.transactionsStored, registry),
    duplicatesSkipped: counter(METRICS.duplicatesSkipped, registry),
    produceToCommit: histogram(METRICS.produceToCommit, registry),
    activityFailures: counter(METRICS.activityFailures, registry),
    applyErrors: counter(METRICS.applyErrors, registry),
    parkedEvents: counter(METRICS.parkedEvents, registry),
    transfersReturned: counter(METRICS.transfersReturned, registry),
    idConflicts: counter(METRICS.idConflicts, registry),
    storeRefusals: counter(METRICS.storeRefusals, registry),
    consumerBatchAge: gauge(METRICS.consumerBatchAge, registry),
    batchRetries: counter(METRICS.batchRetries, registry),
    consumerLag: gauge(METRICS.consumerLag, registry),
    undecodableBatch: gauge(METRICS.undecodableBatch, registry),
    fraudFlagged: counter(METRICS.fraudFlagged, registry),
    fraudReviews: counter(METRICS.fraudReviews, registry),
    reviewsOpened: counter(METRICS.reviewsOpened, registry),
    reviewsNotQueued: counter(METRICS.reviewsNotQueued, registry),
    reviewQueueDepth: gauge(METRICS.reviewQueueDepth, registry),
    reviewQueueMax: gauge(METRICS.reviewQueueMax, registry),
    taskQueueBacklog: gauge(METRICS.taskQueueBacklog, registry),
    topicPartitions: gauge(METRICS.topicPartitions, registry),
    partitionCap: gauge(METRICS.partitionCap, registry),
    dbPools,
    dbConnections: gauge(METRICS.dbConnections, registry, (g) =>
      eachPool((u) => {
        g.set({ [poolName]: u.name, db_client_connection_state: 'used' }, u.used);
        g.set({ [poolName]: u.name, db_client_connection_state: 'idle' }, u.idle);
      }),
    ),
    dbConnectionsMax: gauge(METRICS.dbConnectionsMax, registry, (g) => eachPool((u) => g.set({ [poolName]: u.name }, u.max))),
    dbPendingRequests: gauge(METRICS.dbPendingRequests, registry, (g) => eachPool((u) => g.set({ [poolName]: u.name }, u.pending))),
    dbOperationDuration: histogram(METRICS.dbOperationDuration, registry),
    dbTransactionDuration: histogram(METRICS.dbTransactionDuration, registry),
    httpServerDuration: histogram(METRICS.httpServerDuration, registry),
    apiKeyReloadFailures: counter(METRICS.apiKeyReloadFailures, registry),
    idempotencyClaims: counter(METRICS.idempotencyClaims, registry),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

/** The attributes of messaging.process.duration for this consumer group's batches. */
export function batchProcessLabels(topic: string, groupId: string): Labels {
  return { messaging_system: 'kafka', messaging_operation_name: 'process', messaging_destination_name: topic, messaging_consumer_group_name: groupId };
}

/** Counts acknowledged events by partition and kind: `partitions[i]` and `kinds[i]` describe event i. */
export function countProduced(metrics: Metrics, topic: string, partitions: ReadonlyArray<number>, kindOf: (index: number) => string): void {
  const counts = new Map<string, { partition: number; kind: string; n: number }>();
  partitions.forEach((partition, i) => {
    const kind = kindOf(i);
    const key = `${partition}/${kind}`;
    const entry = counts.get(key) ?? { partition, kind, n: 0 };
    entry.n += 1;
    counts.set(key, entry);
  });
  for (const { partition, kind, n } of counts.values()) metrics.eventsProduced.inc({ topic, partition, kind }, n);
}
