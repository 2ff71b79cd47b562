import client from 'prom-client';

/**
 * One registry per process and the metric names of the whole project in one place, following
 * Prometheus conventions (base units, _total for counters).
 */
/** What a database pool reports when scraped (see observePool in src/store/pool.ts). */
export interface DbPoolUsage {
  inUse: number;
  idle: number;
  max: number;
  pending: number;
}

export function createMetrics(processName: string) {
  const registry = new client.Registry();
  /** Pools of this process, read at scrape time. */
  const dbPools = new Set<() => DbPoolUsage>();
  const poolTotals = () => {
    const sum: DbPoolUsage = { inUse: 0, idle: 0, max: 0, pending: 0 };
    for (const usage of dbPools) for (const [k, v] of Object.entries(usage())) sum[k as keyof DbPoolUsage] += v;
    return sum;
  };
  registry.setDefaultLabels({ process: processName });
  client.collectDefaultMetrics({ register: registry });
  const latencyBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2.5, 5, 10, 30];
  return {
    registry,
    eventsProduced: new client.Counter({
      name: 'ledgerflow_events_produced_total',
      help: 'Events written to Kafka by this process, by partition and kind (valid or malformed synthetic events, http ingest).',
      labelNames: ['topic', 'partition', 'kind'],
      registers: [registry],
    }),
    eventsConsumed: new client.Counter({
      name: 'ledgerflow_events_consumed_total',
      help: 'Events read from Kafka and handed on (workflow or DLQ).',
      labelNames: ['topic', 'partition'],
      registers: [registry],
    }),
    dlqEvents: new client.Counter({
      name: 'ledgerflow_dlq_events_total',
      help: 'Malformed events sent to the dead-letter topic, by the field at fault.',
      labelNames: ['field'],
      registers: [registry],
    }),
    batches: new client.Counter({
      name: 'ledgerflow_batches_total',
      help: 'Batches completed (workflow finished and offsets committed).',
      labelNames: ['partition'],
      registers: [registry],
    }),
    batchSize: new client.Histogram({
      name: 'ledgerflow_batch_size_events',
      help: 'Events per batch.',
      buckets: [1, 10, 50, 100, 250, 500, 1000, 2000, 5000],
      registers: [registry],
    }),
    batchDuration: new client.Histogram({
      name: 'ledgerflow_batch_duration_seconds',
      help: 'From workflow start to offset commit, per batch.',
      buckets: latencyBuckets,
      registers: [registry],
    }),
    applyDuration: new client.Histogram({
      name: 'ledgerflow_apply_duration_seconds',
      help: 'Duration of the applyBatch database transaction.',
      buckets: latencyBuckets,
      registers: [registry],
    }),
    transactionsStored: new client.Counter({
      name: 'ledgerflow_transactions_stored_total',
      help: 'Transactions inserted, by status and rejection reason.',
      labelNames: ['status', 'reason'],
      registers: [registry],
    }),
    duplicatesSkipped: new client.Counter({
      name: 'ledgerflow_duplicates_skipped_total',
      help: 'Events already stored when their batch was applied (replays, duplicate sends).',
      registers: [registry],
    }),
    produceToCommit: new client.Histogram({
      name: 'ledgerflow_produce_to_commit_seconds',
      help: 'From the Kafka message timestamp (produce time) to the offset commit after its batch was applied.',
      // Fine around the 1 s target: p99 is interpolated within a bucket (issue 5).
      buckets: [0.05, 0.1, 0.25, 0.5, 0.75, 1, 1.25, 1.5, 2, 3, 5, 10, 30, 60, 300],
      registers: [registry],
    }),
    activityFailures: new client.Counter({
      name: 'ledgerflow_activity_failures_total',
      help: 'Activity attempts that failed (and will be retried), by activity and error code.',
      labelNames: ['activity', 'code'],
      registers: [registry],
    }),
    consumerLag: new client.Gauge({
      name: 'ledgerflow_consumer_lag_events',
      help: 'High watermark minus the committed offset of the consumer group, per partition, refreshed on a timer.',
      labelNames: ['topic', 'partition'],
      registers: [registry],
    }),
    undecodableBatch: new client.Gauge({
      name: 'ledgerflow_consumer_undecodable_batch_offset',
      help: 'Offset of a record batch the consumer cannot decode, per partition: the partition is stuck there until an operator acts (set just before the consumer exits).',
      labelNames: ['topic', 'partition'],
      registers: [registry],
    }),
    dbPools,
    dbPoolConnections: new client.Gauge({
      name: 'ledgerflow_db_pool_connections',
      help: 'Database pool connections of this process: in_use (checked out), idle (open and free), max (the pool limit).',
      labelNames: ['state'],
      registers: [registry],
      collect() {
        const { inUse, idle, max } = poolTotals();
        this.set({ state: 'in_use' }, inUse);
        this.set({ state: 'idle' }, idle);
        this.set({ state: 'max' }, max);
      },
    }),
    dbPoolPendingAcquires: new client.Gauge({
      name: 'ledgerflow_db_pool_pending_acquires',
      help: 'Requests waiting for a free database connection (the pool is exhausted while above 0).',
      registers: [registry],
      collect() {
        this.set(poolTotals().pending);
      },
    }),
    dbQueryDuration: new client.Histogram({
      name: 'ledgerflow_db_query_duration_seconds',
      help: 'Database statements, from send to result, by SQL operation (first keyword) and outcome.',
      labelNames: ['operation', 'outcome'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    dbTransactionDuration: new client.Histogram({
      name: 'ledgerflow_db_transaction_duration_seconds',
      help: 'Database transactions, from taking a connection to commit or rollback, by outcome.',
      labelNames: ['outcome'],
      buckets: latencyBuckets,
      registers: [registry],
    }),
    httpRequests: new client.Counter({
      name: 'ledgerflow_http_requests_total',
      help: 'HTTP requests answered, by route and status code.',
      labelNames: ['route', 'code'],
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

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
