import convict from 'convict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LedgerflowError } from './domain/errors';
import type { FraudThresholds } from './domain/fraud/rules';

/**
 * The one configuration schema. Every setting has a default, a doc string and an env var;
 * nothing else in the code base reads process.env.
 */
const positiveInt = (name: string) => (v: unknown) => {
  if (!Number.isSafeInteger(v) || (v as number) <= 0) throw new Error(`${name} must be a positive integer`);
};
const nonNegativeInt = (name: string) => (v: unknown) => {
  if (!Number.isSafeInteger(v) || (v as number) < 0) throw new Error(`${name} must be a non-negative integer`);
};
const intAtLeast = (name: string, min: number, why: string) => (v: unknown) => {
  if (!Number.isSafeInteger(v) || (v as number) < min) throw new Error(`${name} must be an integer >= ${min} (${why})`);
};
const positiveNumber = (name: string) => (v: unknown) => {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new Error(`${name} must be a positive number`);
};
const fraction = (name: string) => (v: unknown) => {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 1) throw new Error(`${name} must be a number from 0 to 1`);
};
const minorUnits = (v: unknown) => {
  if (typeof v !== 'string' || !/^(0|[1-9][0-9]{0,17})$/.test(v)) {
    throw new Error('must be a whole number of minor units written as a decimal string (e.g. "100000")');
  }
};

const OTLP_PROTOCOLS = ['http/protobuf', 'http/json', 'grpc'] as const;
const otelMetricsExporters = (v: unknown) => {
  const names = String(v).split(',').map((n) => n.trim());
  const unknown = names.filter((n) => !['otlp', 'prometheus', 'none'].includes(n));
  if (unknown.length > 0) throw new Error(`unsupported exporter ${JSON.stringify(unknown[0])}: otlp, prometheus or none (comma-separated)`);
};
const otlpUrl = (name: string) => (v: unknown) => {
  if (v === '') return;
  let url: URL;
  try {
    url = new URL(String(v));
  } catch {
    throw new Error(`${name} must be an http(s) URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`${name} must be an http(s) URL`);
};
/** The W3C Baggage-like lists of OTEL_RESOURCE_ATTRIBUTES and OTEL_EXPORTER_OTLP_HEADERS. */
const keyValueList = (name: string) => (v: unknown) => {
  const bad = String(v)
    .split(',')
    .filter((pair) => pair.trim() !== '')
    .find((pair) => !/^\s*[^=\s]+\s*=/.test(pair));
  // The value is left out of the message: the headers may hold a credential.
  if (bad !== undefined) throw new Error(`${name} must be key=value pairs separated by commas; one entry has no key=`);
};
const ipv4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const ipv4Address = (name: string) => (v: unknown) => {
  if (typeof v !== 'string' || !ipv4.test(v)) throw new Error(`${name} must be an IPv4 address such as 127.0.0.1`);
};
/** An IPv4 network "a.b.c.d/p" with prefix length in [min, max] and no host bits set. */
const ipv4Cidr = (name: string, min: number, max: number) => (v: unknown) => {
  const [address, prefix, ...rest] = typeof v === 'string' ? v.split('/') : [];
  const bits = Number(prefix);
  if (rest.length > 0 || address === undefined || !ipv4.test(address) || !Number.isInteger(bits) || bits < min || bits > max) {
    throw new Error(`${name} must be an IPv4 network a.b.c.d/p with p from ${min} to ${max}`);
  }
  const value = address.split('.').reduce((acc, octet) => acc * 256 + Number(octet), 0);
  if (value % 2 ** (32 - bits) !== 0) throw new Error(`${name}: ${String(v)} has host bits set`);
};

const schema = {
  log: {
    level: {
      doc: 'Log level (pino).',
      format: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
      default: 'info',
      env: 'LF_LOG_LEVEL',
    },
    format: {
      doc: 'Log format: json (one structured line per event, for a collector), pretty (short lines for a person), or auto: pretty when standard error is a terminal, json otherwise.',
      format: ['auto', 'json', 'pretty'],
      default: 'auto',
      env: 'LF_LOG_FORMAT',
    },
  },
  stack: {
    dir: {
      doc: 'Directory of the local stack: installed services, data, logs, generated secrets.',
      format: String,
      default: '.stack',
      env: 'LF_STACK_DIR',
    },
    prometheusPort: {
      doc: 'Port of the local stack\'s Prometheus (dashboards and their tests query it there).',
      format: 'port',
      default: 9090,
      env: 'LF_STACK_PROMETHEUS_PORT',
    },
    otelcolPort: {
      doc: "OTLP/HTTP port of the local stack's OpenTelemetry Collector (its OTLP/gRPC port is this minus 1); started by `stack up otelcol`.",
      format: 'port',
      default: 4318,
      env: 'LF_STACK_OTELCOL_PORT',
    },
    otelcolPrometheusPort: {
      doc: "Port where the local stack's OpenTelemetry Collector serves the metrics it received, in the Prometheus format.",
      format: 'port',
      default: 8889,
      env: 'LF_STACK_OTELCOL_PROMETHEUS_PORT',
    },
    jaegerPort: {
      doc: "Port of the local stack's Jaeger UI and query API; its OTLP/gRPC receiver (fed by the collector) is this plus 1, its query gRPC this minus 1. Started by `stack up jaeger`.",
      format: 'port',
      default: 16686,
      env: 'LF_STACK_JAEGER_PORT',
    },
    host: {
      doc: 'Address every service of the local stack binds and advertises (Kafka listener, MariaDB, Temporal, Prometheus). 127.0.0.1 keeps the stack on this machine; `ledgerflow cluster deps` sets the node\'s IP inside its network namespace.',
      format: ipv4Address('stack.host'),
      default: '127.0.0.1',
      env: 'LF_STACK_HOST',
    },
    temporalBindHost: {
      doc: 'Address the local Temporal dev server binds; empty: stack.host. The dev server dials its own history and matching services at the loopback address whatever it binds, so bound to one non-loopback address alone it cannot reach them (every workflow start fails "Unavailable"). `ledgerflow cluster deps` sets 0.0.0.0: inside the node\'s network namespace that is the node\'s IP and loopback, nothing more.',
      format: (v: unknown) => {
        if (String(v) !== '') ipv4Address('stack.temporalBindHost')(v);
      },
      default: '',
      env: 'LF_STACK_TEMPORAL_BIND_HOST',
    },
    clientNetworks: {
      doc: 'Comma-separated IPv4 networks (a.b.c.d/p) the local MariaDB accounts accept connections from, besides localhost; empty: loopback only. `ledgerflow cluster deps` sets the pod network and the host\'s end of the node link.',
      format: (v: unknown) => {
        for (const cidr of String(v).split(',').map((c) => c.trim()).filter(Boolean)) ipv4Cidr('stack.clientNetworks', 0, 32)(cidr);
      },
      default: '',
      env: 'LF_STACK_CLIENT_NETWORKS',
    },
    mariadbBufferPoolMb: {
      doc: "InnoDB buffer pool of the local stack's MariaDB, in MiB (read at its start). 0: a third of this machine's memory, at most 8192, at least 1024 — enough to keep a 10M-row ledger's pages and indexes in memory on a 24 GiB box.",
      format: 'nat',
      default: 0,
      env: 'LF_STACK_MARIADB_BUFFER_POOL_MB',
    },
    kafkaClusterBasePort: {
      doc: "Broker port of node 1 of the local 3-broker Kafka profile (`stack kafka-cluster`); node n listens on base + 2(n-1), its controller one above. Another value lets two such clusters (two checkouts) share a machine.",
      format: 'port',
      default: 19092,
      env: 'LF_STACK_KAFKA_CLUSTER_BASE_PORT',
    },
  },
  cluster: {
    dir: {
      doc: 'Directory of the local Kubernetes node (`ledgerflow cluster`): certificates, etcd and containerd data, logs, kubeconfig.',
      format: String,
      default: path.join('.stack', 'cluster'),
      env: 'LF_CLUSTER_DIR',
    },
    linkCidr: {
      doc: "The /30 between this machine and the node's network namespace: the first address is the host's end, the second the node's IP (API server, kubelet, the dependencies of the release).",
      format: ipv4Cidr('cluster.linkCidr', 30, 30),
      default: '10.250.0.0/30',
      env: 'LF_CLUSTER_LINK_CIDR',
    },
    podCidr: {
      doc: "The node's pod network; routed from this machine into the node's namespace only.",
      format: ipv4Cidr('cluster.podCidr', 16, 28),
      default: '10.244.0.0/24',
      env: 'LF_CLUSTER_POD_CIDR',
    },
    serviceCidr: {
      doc: "The cluster's Service (ClusterIP) range; routed from this machine into the node's namespace only. Its first address is the API server's Service, its tenth the DNS Service.",
      format: ipv4Cidr('cluster.serviceCidr', 16, 28),
      default: '10.96.0.0/24',
      env: 'LF_CLUSTER_SERVICE_CIDR',
    },
  },
  cache: {
    dir: {
      doc: 'Per-user cache of big versioned build inputs, kept outside the clone (a fresh CI clone reuses it): the Node.js and npm packages of the image\'s local base stand-ins, the secure profile\'s Temporal server, the local Kubernetes node\'s binaries and images (`ledgerflow cluster`), the OpenTelemetry Collector and Jaeger (compiled from the Go module proxy). Empty: $XDG_CACHE_HOME/ledgerflow, else ~/.cache/ledgerflow.',
      format: String,
      default: '',
      env: 'LF_CACHE_DIR',
    },
  },
  image: {
    caFile: {
      doc: 'CA bundle handed to npm inside `ledgerflow image build` as a build secret (never stored in a layer), for networks whose TLS is re-signed by a proxy. Empty, or a file that does not exist: npm trusts only its built-in CAs.',
      format: String,
      default: '/etc/ssl/certs/ca-certificates.crt',
      env: 'LF_IMAGE_CA_FILE',
    },
  },
  kafka: {
    brokers: {
      doc: 'Comma-separated Kafka bootstrap brokers (host:port).',
      format: (v: unknown) => {
        const list = Array.isArray(v) ? v : String(v).split(',');
        if (list.length === 0 || list.some((b) => !/^[A-Za-z0-9_.\-[\]:]+:\d{1,5}$/.test(String(b).trim()))) {
          throw new Error('must be a comma-separated list of host:port');
        }
      },
      default: '127.0.0.1:9092',
      env: 'LF_KAFKA_BROKERS',
    },
    clientId: { doc: 'Kafka client id prefix.', format: String, default: 'ledgerflow', env: 'LF_KAFKA_CLIENT_ID' },
    topic: { doc: 'Topic of incoming transactions.', format: String, default: 'transactions', env: 'LF_KAFKA_TOPIC' },
    dlqTopic: {
      doc: 'Dead-letter topic for malformed events (reason in headers).',
      format: String,
      default: 'transactions.dlq',
      env: 'LF_KAFKA_DLQ_TOPIC',
    },
    partitions: {
      doc: 'Partitions of the transactions topic when Ledgerflow creates it.',
      format: positiveInt('kafka.partitions'),
      default: 3,
      env: 'LF_KAFKA_PARTITIONS',
    },
    replicationFactor: {
      doc: 'Replication factor of the topics when Ledgerflow creates them.',
      format: positiveInt('kafka.replicationFactor'),
      default: 1,
      env: 'LF_KAFKA_REPLICATION_FACTOR',
    },
    groupId: { doc: 'Consumer group id.', format: String, default: 'ledgerflow', env: 'LF_KAFKA_GROUP_ID' },
    compression: {
      doc: "Compression of the batches Ledgerflow writes (produce, HTTP ingest, DLQ). Every Kafka codec is read whatever this says; a topic's own compression.type other than 'producer' makes the broker recompress (docs/decisions/016-kafka-compression-codecs.md).",
      format: ['none', 'gzip', 'snappy', 'lz4', 'zstd'],
      default: 'zstd',
      env: 'LF_KAFKA_COMPRESSION',
    },
    ssl: { doc: 'Use TLS to reach the brokers (the broker certificate and its host name are always verified).', format: Boolean, default: false, env: 'LF_KAFKA_SSL' },
    sslCaPath: {
      doc: "CA certificate(s) (PEM) that signed the brokers' certificates, with kafka.ssl. Empty: the system's trusted CAs.",
      format: String,
      default: '',
      env: 'LF_KAFKA_SSL_CA_PATH',
    },
    saslMechanism: {
      doc: 'SASL mechanism, empty for none.',
      format: ['', 'plain', 'scram-sha-256', 'scram-sha-512'],
      default: '',
      env: 'LF_KAFKA_SASL_MECHANISM',
    },
    saslUsername: { doc: 'SASL user name.', format: String, default: '', env: 'LF_KAFKA_SASL_USERNAME' },
    saslPassword: {
      doc: 'SASL password (from a Secret).',
      format: String,
      default: '',
      sensitive: true,
      env: 'LF_KAFKA_SASL_PASSWORD',
    },
    saslPasswordFile: {
      doc: 'File holding the SASL password, read when kafka.saslPassword is empty (a mounted Secret, or the secure local stack\'s generated password files).',
      format: String,
      default: '',
      env: 'LF_KAFKA_SASL_PASSWORD_FILE',
    },
  },
  temporal: {
    address: { doc: 'Temporal frontend host:port.', format: String, default: '127.0.0.1:7233', env: 'LF_TEMPORAL_ADDRESS' },
    namespace: { doc: 'Temporal namespace.', format: String, default: 'default', env: 'LF_TEMPORAL_NAMESPACE' },
    taskQueue: { doc: 'Task queue of the ledgerflow worker.', format: String, default: 'ledgerflow', env: 'LF_TEMPORAL_TASK_QUEUE' },
    tls: { doc: 'Use TLS to reach Temporal (on by itself with a client certificate, a CA or an API key).', format: Boolean, default: false, env: 'LF_TEMPORAL_TLS' },
    tlsCaPath: {
      doc: "CA certificate(s) (PEM) that signed the Temporal frontend's certificate. Empty: the system's trusted CAs.",
      format: String,
      default: '',
      env: 'LF_TEMPORAL_TLS_CA_PATH',
    },
    tlsServerName: {
      doc: "Name the Temporal frontend's certificate is checked against (and sent as SNI). Empty: the host of temporal.address.",
      format: String,
      default: '',
      env: 'LF_TEMPORAL_TLS_SERVER_NAME',
    },
    tlsCertPath: { doc: 'Client certificate (PEM) for mTLS; with temporal.tlsKeyPath.', format: String, default: '', env: 'LF_TEMPORAL_TLS_CERT_PATH' },
    tlsKeyPath: { doc: 'Client private key (PEM) for mTLS; with temporal.tlsCertPath.', format: String, default: '', env: 'LF_TEMPORAL_TLS_KEY_PATH' },
    apiKey: {
      doc: 'Temporal Cloud API key (from a Secret).',
      format: String,
      default: '',
      sensitive: true,
      env: 'LF_TEMPORAL_API_KEY',
    },
  },
  db: {
    dialect: {
      doc: 'SQL dialect of the store: mariadb (local) or singlestore (production).',
      format: ['mariadb', 'singlestore'],
      default: 'mariadb',
      env: 'LF_DB_DIALECT',
    },
    host: { doc: 'Database host.', format: String, default: '127.0.0.1', env: 'LF_DB_HOST' },
    port: { doc: 'Database port.', format: 'port', default: 3306, env: 'LF_DB_PORT' },
    name: { doc: 'Database (schema) name.', format: String, default: 'ledgerflow', env: 'LF_DB_NAME' },
    user: {
      doc: 'Application user: SELECT/INSERT/UPDATE on the ledgerflow schema only.',
      format: String,
      default: 'ledgerflow_app',
      env: 'LF_DB_USER',
    },
    password: {
      doc: 'Application user password (from a Secret). Empty: read db.passwordFile.',
      format: String,
      default: '',
      sensitive: true,
      env: 'LF_DB_PASSWORD',
    },
    passwordFile: {
      doc: 'File holding the application password, used when db.password is empty. Empty: <stack.dir>/secrets/db-app.password, which the local stack writes.',
      format: String,
      default: '',
      env: 'LF_DB_PASSWORD_FILE',
    },
    migrationUser: {
      doc: 'Migration user: DDL on the ledgerflow schema; used only by `ledgerflow migrate`.',
      format: String,
      default: 'ledgerflow_migrate',
      env: 'LF_DB_MIGRATION_USER',
    },
    migrationPassword: {
      doc: 'Migration user password (from a Secret). Empty: read db.migrationPasswordFile.',
      format: String,
      default: '',
      sensitive: true,
      env: 'LF_DB_MIGRATION_PASSWORD',
    },
    migrationPasswordFile: {
      doc: 'File holding the migration password, used when db.migrationPassword is empty. Empty: <stack.dir>/secrets/db-migrate.password.',
      format: String,
      default: '',
      env: 'LF_DB_MIGRATION_PASSWORD_FILE',
    },
    poolSize: { doc: 'Connections per process.', format: positiveInt('db.poolSize'), default: 8, env: 'LF_DB_POOL_SIZE' },
    tls: {
      doc: "Connect to the database over TLS, verifying the server's certificate and host name (on by itself with db.tlsCaPath).",
      format: Boolean,
      default: false,
      env: 'LF_DB_TLS',
    },
    tlsCaPath: {
      doc: "CA certificate(s) (PEM) that signed the database server's certificate. Empty: the system's trusted CAs.",
      format: String,
      default: '',
      env: 'LF_DB_TLS_CA_PATH',
    },
  },
  consumer: {
    batchMaxEvents: {
      doc: 'Most events in one batch (one workflow, one database transaction).',
      format: positiveInt('consumer.batchMaxEvents'),
      default: 500,
      env: 'LF_CONSUMER_BATCH_MAX_EVENTS',
    },
    batchMaxBytes: {
      doc: 'Largest packed batch (its events as gzipped JSON) one workflow carries; a larger batch is halved until it fits. Keep it below the Temporal server\'s payload limit (2 MiB by default, limit.blobSize.error).',
      format: positiveInt('consumer.batchMaxBytes'),
      default: 1536 * 1024,
      env: 'LF_CONSUMER_BATCH_MAX_BYTES',
    },
    lingerMs: {
      doc: 'Longest wait for a batch to fill (broker fetch wait).',
      format: nonNegativeInt('consumer.lingerMs'),
      default: 100,
      env: 'LF_CONSUMER_LINGER_MS',
    },
    partitionsConcurrently: {
      doc: 'Partitions whose fetched messages one consumer process queues at the same time (kafkajs partitionsConsumedConcurrently).',
      format: positiveInt('consumer.partitionsConcurrently'),
      default: 12,
      env: 'LF_CONSUMER_PARTITIONS_CONCURRENTLY',
    },
    batchesInFlight: {
      doc: 'Batches (workflows) one consumer process has in flight at once, and as many again while full batches wait. With fewer than its partitions, a batch covers several partitions: fewer, larger batches.',
      format: positiveInt('consumer.batchesInFlight'),
      default: 4,
      env: 'LF_CONSUMER_BATCHES_IN_FLIGHT',
    },
    sessionTimeoutMs: {
      doc: 'Kafka group session timeout: how long a dead consumer keeps its partitions before the group rebalances them.',
      format: intAtLeast('consumer.sessionTimeoutMs', 6000, "the broker's group.min.session.timeout.ms"),
      default: 30000,
      env: 'LF_CONSUMER_SESSION_TIMEOUT_MS',
    },
    undecodableExitDelayMs: {
      doc: 'After meeting a record batch it cannot decode, the consumer reports unhealthy and shows the partition and offset on /metrics for this long, so Prometheus scrapes it, then exits non-zero.',
      format: nonNegativeInt('consumer.undecodableExitDelayMs'),
      default: 30000,
      env: 'LF_CONSUMER_UNDECODABLE_EXIT_DELAY_MS',
    },
    httpPort: { doc: 'Port of the consumer /healthz, /readyz, /metrics.', format: 'port', default: 9471, env: 'LF_CONSUMER_HTTP_PORT' },
    stallWarnMs: {
      doc: 'A batch waiting this long for its workflow is logged as stalled (warn, with its workflow id and partitions), and again every such interval while it waits; ledgerflow_consumer_batch_age_seconds shows every wait.',
      format: positiveInt('consumer.stallWarnMs'),
      default: 60000,
      env: 'LF_CONSUMER_STALL_WARN_MS',
    },
  },
  worker: {
    maxConcurrentActivities: {
      doc: 'Activities (database transactions) run at once by one worker.',
      format: positiveInt('worker.maxConcurrentActivities'),
      default: 8,
      env: 'LF_WORKER_MAX_CONCURRENT_ACTIVITIES',
    },
    maxConcurrentWorkflowTasks: {
      doc: 'Workflow tasks run at once by one worker.',
      format: positiveInt('worker.maxConcurrentWorkflowTasks'),
      default: 16,
      env: 'LF_WORKER_MAX_CONCURRENT_WORKFLOW_TASKS',
    },
    httpPort: { doc: 'Port of the worker /healthz, /readyz, /metrics.', format: 'port', default: 9472, env: 'LF_WORKER_HTTP_PORT' },
    sdkMetricsPort: {
      doc: "Port of the Temporal SDK's own Prometheus /metrics (task latencies, pollers, slots), served by the worker on api.host; 0 turns it off.",
      format: 'port',
      default: 9474,
      env: 'LF_WORKER_SDK_METRICS_PORT',
    },
    backlogPollMs: {
      doc: "How often the worker reads its task queue's backlog from Temporal (DescribeTaskQueue with stats) for ledgerflow_task_queue_backlog, the worker's autoscaling signal without KEDA's Temporal scaler; 0 turns it off.",
      format: nonNegativeInt('worker.backlogPollMs'),
      default: 15000,
      env: 'LF_WORKER_BACKLOG_POLL_MS',
    },
    unknownFailureAttempts: {
      doc: 'Attempts a batch gets when its apply fails with an error of no known class, before the batch is split and the events at fault are parked (docs/decisions/020-poison-isolation.md). Transient failures are retried without limit, deterministic ones are isolated at once.',
      format: positiveInt('worker.unknownFailureAttempts'),
      default: 3,
      env: 'LF_WORKER_UNKNOWN_FAILURE_ATTEMPTS',
    },
  },
  producer: {
    httpPort: { doc: 'Port of the producer /metrics.', format: 'port', default: 9473, env: 'LF_PRODUCER_HTTP_PORT' },
    fraudLabels: {
      doc: "Where the synthetic producer records which events it injected as fraud: database (the fraud_labels table, which the demo summary and the business dashboard join with the flags to show precision and recall; needs the app database user) or none. Events never carry the label.",
      format: ['database', 'none'],
      default: 'database',
      env: 'LF_PRODUCER_FRAUD_LABELS',
    },
  },
  api: {
    host: { doc: 'Address the HTTP servers bind to.', format: String, default: '127.0.0.1', env: 'LF_API_HOST' },
    port: { doc: 'Port of the REST API, live page and /metrics.', format: 'port', default: 8080, env: 'LF_API_PORT' },
    pageSizeMax: {
      doc: 'Largest page of GET /accounts/:account/transactions.',
      format: positiveInt('api.pageSizeMax'),
      default: 500,
      env: 'LF_API_PAGE_SIZE_MAX',
    },
    ingestBatchMax: {
      doc: 'Most transactions in one POST /transactions body.',
      format: positiveInt('api.ingestBatchMax'),
      default: 1000,
      env: 'LF_API_INGEST_BATCH_MAX',
    },
    keysFile: {
      doc: 'Key set of the API credentials (JSON: id, scopes, SHA-256 of the token; `ledgerflow api-key create` writes it), mounted from a Secret in Kubernetes and re-read every api.keysReloadMs. Empty: <stack.dir>/secrets/api-keys.json, which the local stack writes. See docs/api.md.',
      format: String,
      default: '',
      env: 'LF_API_KEYS_FILE',
    },
    keysReloadMs: {
      doc: 'How often the api re-reads api.keysFile: a credential added, rotated or revoked there takes effect within this time, without a restart.',
      format: positiveInt('api.keysReloadMs'),
      default: 5000,
      env: 'LF_API_KEYS_RELOAD_MS',
    },
    rateLimitPerMinute: {
      doc: 'Requests per minute one credential may make to one api replica (a credential\'s own rateLimitPerMinute in the key set overrides it); beyond it: 429 with Retry-After.',
      format: positiveInt('api.rateLimitPerMinute'),
      default: 6000,
      env: 'LF_API_RATE_LIMIT_PER_MINUTE',
    },
    sessionTtlS: {
      doc: 'Lifetime (s) of a live-page sign-in (the HttpOnly session cookie that /events accepts).',
      format: positiveInt('api.sessionTtlS'),
      default: 28800,
      env: 'LF_API_SESSION_TTL_S',
    },
    sessionCookieSecure: {
      doc: 'Mark the session cookie Secure (sent over HTTPS only). On wherever clients reach the api through TLS; off for plain http://127.0.0.1.',
      format: Boolean,
      default: false,
      env: 'LF_API_SESSION_COOKIE_SECURE',
    },
    idempotencyRetentionS: {
      doc: 'How long (s) an Idempotency-Key stays bound to its first body and answer: a retry within it gets the first answer, another body under the key a 422. Longer covers later retries at the cost of more rows; after it, a reused key with another body is caught only downstream, as an id conflict.',
      format: positiveInt('api.idempotencyRetentionS'),
      default: 86400,
      env: 'LF_API_IDEMPOTENCY_RETENTION_S',
    },
  },
  rules: {
    maxAmountMinor: {
      doc: 'Largest amount of a single transaction, in minor units; above it the transaction is rejected (over_limit).',
      format: minorUnits,
      default: '100000000',
      env: 'LF_RULES_MAX_AMOUNT_MINOR',
    },
    overdraftLimitMinor: {
      doc: 'How far below zero an account may go, in minor units; a debit or transfer beyond it is rejected (insufficient_funds).',
      format: minorUnits,
      default: '50000',
      env: 'LF_RULES_OVERDRAFT_LIMIT_MINOR',
    },
    currencies: {
      doc: 'Accepted ISO 4217 currency codes, comma-separated; others are rejected (unsupported_currency).',
      format: (v: unknown) => {
        const list = String(v).split(',');
        if (list.some((c) => !/^[A-Z]{3}$/.test(c.trim()))) throw new Error('must be comma-separated ISO 4217 codes');
      },
      default: 'EUR,USD,GBP',
      env: 'LF_RULES_CURRENCIES',
    },
  },
  tracing: {
    enabled: {
      doc: 'Export OpenTelemetry traces (Kafka → consumer → Temporal → MySQL) over OTLP, configured by the standard OTEL_EXPORTER_OTLP_* variables. Off: no SDK is loaded.',
      format: Boolean,
      default: false,
      env: 'LF_TRACING_ENABLED',
    },
  },
  otel: {
    // The standard OpenTelemetry variables (their own names, not LF_*), so a platform's usual
    // settings work unchanged; read here like every other setting (docs/observability.md).
    metricsExporter: {
      doc: 'Where metrics go besides /metrics: otlp (to OTEL_EXPORTER_OTLP_(METRICS_)ENDPOINT, every OTEL_METRIC_EXPORT_INTERVAL), or none. Comma-separated list; prometheus names the /metrics endpoint, which is always on. Off (none) unless set, unlike the SDK default.',
      format: otelMetricsExporters,
      default: 'none',
      env: 'OTEL_METRICS_EXPORTER',
    },
    exporterOtlpEndpoint: {
      doc: 'Base URL of the OTLP receiver (an OpenTelemetry Collector) for traces and metrics, e.g. http://otel-collector:4318; OTLP/HTTP appends /v1/metrics or /v1/traces. Empty: http://localhost:4318 (grpc: http://localhost:4317).',
      format: otlpUrl('OTEL_EXPORTER_OTLP_ENDPOINT'),
      default: '',
      env: 'OTEL_EXPORTER_OTLP_ENDPOINT',
    },
    exporterOtlpMetricsEndpoint: {
      doc: 'Full URL metrics are sent to (used as given); empty: derived from OTEL_EXPORTER_OTLP_ENDPOINT.',
      format: otlpUrl('OTEL_EXPORTER_OTLP_METRICS_ENDPOINT'),
      default: '',
      env: 'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT',
    },
    exporterOtlpTracesEndpoint: {
      doc: 'Full URL traces are sent to (used as given); empty: derived from OTEL_EXPORTER_OTLP_ENDPOINT.',
      format: otlpUrl('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'),
      default: '',
      env: 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
    },
    exporterOtlpProtocol: {
      doc: 'OTLP transport of traces and metrics: http/protobuf, http/json or grpc.',
      format: OTLP_PROTOCOLS,
      default: 'http/protobuf',
      env: 'OTEL_EXPORTER_OTLP_PROTOCOL',
    },
    exporterOtlpMetricsProtocol: {
      doc: 'OTLP transport of metrics only; empty: OTEL_EXPORTER_OTLP_PROTOCOL. The Temporal SDK\'s own metrics use http/protobuf for either HTTP protocol.',
      format: ['', ...OTLP_PROTOCOLS],
      default: '',
      env: 'OTEL_EXPORTER_OTLP_METRICS_PROTOCOL',
    },
    exporterOtlpTracesProtocol: {
      doc: 'OTLP transport of traces only; empty: OTEL_EXPORTER_OTLP_PROTOCOL.',
      format: ['', ...OTLP_PROTOCOLS],
      default: '',
      env: 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL',
    },
    exporterOtlpHeaders: {
      doc: 'Headers sent with every OTLP export, key=value pairs separated by commas (values URL-encoded), e.g. an API key of a hosted backend (from a Secret).',
      format: keyValueList('OTEL_EXPORTER_OTLP_HEADERS'),
      default: '',
      sensitive: true,
      env: 'OTEL_EXPORTER_OTLP_HEADERS',
    },
    metricExportIntervalMs: {
      doc: 'Milliseconds between two OTLP metric exports (cumulative values: a lost export loses no count).',
      format: positiveInt('otel.metricExportIntervalMs'),
      default: 60000,
      env: 'OTEL_METRIC_EXPORT_INTERVAL',
    },
    metricExportTimeoutMs: {
      doc: 'Longest time one OTLP metric export may take.',
      format: positiveInt('otel.metricExportTimeoutMs'),
      default: 30000,
      env: 'OTEL_METRIC_EXPORT_TIMEOUT',
    },
    resourceAttributes: {
      doc: 'Resource attributes of every exported span and metric, key=value pairs separated by commas (the chart sets the pod, namespace, release and role). service.name is always ledgerflow-<role>.',
      format: keyValueList('OTEL_RESOURCE_ATTRIBUTES'),
      default: '',
      env: 'OTEL_RESOURCE_ATTRIBUTES',
    },
    bspScheduleDelayMs: { doc: 'Milliseconds between two trace exports (batch span processor).', format: positiveInt('otel.bspScheduleDelayMs'), default: 5000, env: 'OTEL_BSP_SCHEDULE_DELAY' },
    bspMaxQueueSize: { doc: 'Spans queued for export at most; more are dropped.', format: positiveInt('otel.bspMaxQueueSize'), default: 2048, env: 'OTEL_BSP_MAX_QUEUE_SIZE' },
    bspMaxExportBatchSize: { doc: 'Spans in one trace export at most.', format: positiveInt('otel.bspMaxExportBatchSize'), default: 512, env: 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE' },
    bspExportTimeoutMs: { doc: 'Longest time one trace export may take.', format: positiveInt('otel.bspExportTimeoutMs'), default: 30000, env: 'OTEL_BSP_EXPORT_TIMEOUT' },
  },
  fraud: {
    enabled: {
      doc: 'Score every newly stored transaction for fraud in the batch\'s database transaction (off only to measure the cost).',
      format: Boolean,
      default: true,
      env: 'LF_FRAUD_ENABLED',
    },
    modelPath: {
      doc: 'PCA model written by `ledgerflow fraud train` (JSON). Empty: no embedding, no nearest-neighbour detector.',
      format: String,
      default: '',
      env: 'LF_FRAUD_MODEL_PATH',
    },
    vectorRefreshMs: {
      doc: 'How often a worker reloads confirmed-fraud vectors into its nearest-neighbour index.',
      format: positiveInt('fraud.vectorRefreshMs'),
      default: 30000,
      env: 'LF_FRAUD_VECTOR_REFRESH_MS',
    },
    reviewThreshold: {
      doc: 'Score (0..1) at or above which an applied transaction is held for human review (reviewTransaction workflow).',
      format: fraction('fraud.reviewThreshold'),
      default: 0.9,
      env: 'LF_FRAUD_REVIEW_THRESHOLD',
    },
    reviewEnabled: {
      doc: 'Hold applied transactions at or above fraud.reviewThreshold for human review: a reviews row and a reviewTransaction workflow each, within fraud.reviewOpensPerBatchMax and fraud.reviewQueueMax. Reviewers decide with API credentials of scope review.',
      format: Boolean,
      default: true,
      env: 'LF_FRAUD_REVIEW_ENABLED',
    },
    reviewOpensPerBatchMax: {
      doc: 'Most reviews one batch opens (its highest scores first); the batch\'s other flags stay in fraud_flags and are counted as not queued. Bounds the review workflows one batch starts.',
      format: nonNegativeInt('fraud.reviewOpensPerBatchMax'),
      default: 25,
      env: 'LF_FRAUD_REVIEW_OPENS_PER_BATCH_MAX',
    },
    reviewQueueMax: {
      doc: 'Most undecided (open or escalated) reviews at once: while the queue is full no batch opens more, so reviewers falling behind never piles up Temporal workflows; flags are still stored, and the overflow is counted (ledgerflow_fraud_reviews_not_queued_total).',
      format: positiveInt('fraud.reviewQueueMax'),
      default: 1000,
      env: 'LF_FRAUD_REVIEW_QUEUE_MAX',
    },
    reviewEscalateAfterMs: {
      doc: 'How long a review waits for a decision before it is escalated.',
      format: positiveInt('fraud.reviewEscalateAfterMs'),
      default: 14400000,
      env: 'LF_FRAUD_REVIEW_ESCALATE_AFTER_MS',
    },
    shortWindowS: { doc: 'Time constant (s) of the short decayed counts: velocity and card testing.', format: positiveInt('fraud.shortWindowS'), default: 60, env: 'LF_FRAUD_SHORT_WINDOW_S' },
    fanOutWindowS: { doc: 'Time constant (s) of the new-counterparty count (fan-out).', format: positiveInt('fraud.fanOutWindowS'), default: 600, env: 'LF_FRAUD_FAN_OUT_WINDOW_S' },
    paceWindowS: { doc: 'Time constant (s) of the long decayed count that gives an account\'s usual pace.', format: positiveInt('fraud.paceWindowS'), default: 3600, env: 'LF_FRAUD_PACE_WINDOW_S' },
    ewmaAlpha: { doc: 'Weight of the newest amount in the per-account EWMAs (0..1).', format: fraction('fraud.ewmaAlpha'), default: 0.1, env: 'LF_FRAUD_EWMA_ALPHA' },
    tinyAmountMinor: { doc: 'Debits at or below this (minor units) count as tiny (card testing).', format: positiveInt('fraud.tinyAmountMinor'), default: 199, env: 'LF_FRAUD_TINY_AMOUNT_MINOR' },
    cardTestingMinCount: { doc: 'Decayed count of tiny debits that flags card testing.', format: positiveNumber('fraud.cardTestingMinCount'), default: 3, env: 'LF_FRAUD_CARD_TESTING_MIN_COUNT' },
    velocityMinCount: { doc: 'Decayed count of outgoing transactions in the short window that may flag velocity.', format: positiveNumber('fraud.velocityMinCount'), default: 5, env: 'LF_FRAUD_VELOCITY_MIN_COUNT' },
    velocityRateMultiple: { doc: 'Velocity flags only above this multiple of the account\'s own usual pace.', format: positiveNumber('fraud.velocityRateMultiple'), default: 6, env: 'LF_FRAUD_VELOCITY_RATE_MULTIPLE' },
    spikeMinAmountMinor: { doc: 'Smallest amount (minor units) an amount spike can have.', format: positiveInt('fraud.spikeMinAmountMinor'), default: 50000, env: 'LF_FRAUD_SPIKE_MIN_AMOUNT_MINOR' },
    spikeMultiple: { doc: 'An amount spike is at least this multiple of the account\'s EWMA amount.', format: positiveNumber('fraud.spikeMultiple'), default: 12, env: 'LF_FRAUD_SPIKE_MULTIPLE' },
    spikeOverMaxMultiple: { doc: 'An amount spike is at least this multiple of the account\'s largest earlier outgoing amount.', format: positiveNumber('fraud.spikeOverMaxMultiple'), default: 2, env: 'LF_FRAUD_SPIKE_OVER_MAX_MULTIPLE' },
    spikeMinHistory: { doc: 'Outgoing transactions an account needs before amount spikes are judged.', format: positiveInt('fraud.spikeMinHistory'), default: 4, env: 'LF_FRAUD_SPIKE_MIN_HISTORY' },
    bigOutMinAmountMinor: { doc: 'Smallest outgoing amount (minor units) that flags a new or dormant account.', format: positiveInt('fraud.bigOutMinAmountMinor'), default: 200000, env: 'LF_FRAUD_BIG_OUT_MIN_AMOUNT_MINOR' },
    newAccountMaxAgeS: { doc: 'An account is new for this long (s) after its first transaction.', format: positiveInt('fraud.newAccountMaxAgeS'), default: 604800, env: 'LF_FRAUD_NEW_ACCOUNT_MAX_AGE_S' },
    dormantMinGapS: { doc: 'Idle time (s) after which an account counts as dormant.', format: positiveInt('fraud.dormantMinGapS'), default: 2592000, env: 'LF_FRAUD_DORMANT_MIN_GAP_S' },
    fanOutMinCount: { doc: 'Decayed count of new counterparties that may flag fan-out.', format: positiveNumber('fraud.fanOutMinCount'), default: 4, env: 'LF_FRAUD_FAN_OUT_MIN_COUNT' },
    fanOutRateMultiple: { doc: 'Fan-out flags only above this multiple of the account\'s usual rate of new counterparties.', format: positiveNumber('fraud.fanOutRateMultiple'), default: 4, env: 'LF_FRAUD_FAN_OUT_RATE_MULTIPLE' },
    roundTripWindowS: { doc: 'Longest span (s) of the three legs of a round trip A→B→C→A.', format: positiveInt('fraud.roundTripWindowS'), default: 900, env: 'LF_FRAUD_ROUND_TRIP_WINDOW_S' },
    roundTripMinAmountMinor: { doc: 'Only transfers of at least this amount (minor units) are checked for round trips.', format: positiveInt('fraud.roundTripMinAmountMinor'), default: 80000, env: 'LF_FRAUD_ROUND_TRIP_MIN_AMOUNT_MINOR' },
    roundTripAmountTolerance: { doc: 'Largest relative difference between round-trip leg amounts (0..1).', format: fraction('fraud.roundTripAmountTolerance'), default: 0.08, env: 'LF_FRAUD_ROUND_TRIP_AMOUNT_TOLERANCE' },
    anomalyThreshold: { doc: 'Anomaly score (0..1) at or above which the statistics detector flags on its own.', format: fraction('fraud.anomalyThreshold'), default: 0.99, env: 'LF_FRAUD_ANOMALY_THRESHOLD' },
    knnMinSimilarity: { doc: 'Cosine similarity to a confirmed-fraud vector at or above which the nearest-neighbour detector flags.', format: fraction('fraud.knnMinSimilarity'), default: 0.99, env: 'LF_FRAUD_KNN_MIN_SIMILARITY' },
    knnMinNorm: { doc: 'Only embeddings at least this far (in standard deviations) from normal traffic are matched against fraud vectors.', format: positiveNumber('fraud.knnMinNorm'), default: 10, env: 'LF_FRAUD_KNN_MIN_NORM' },
  },
  shutdown: {
    graceMs: {
      doc: 'Longest time a process spends draining in-flight work after SIGTERM.',
      format: positiveInt('shutdown.graceMs'),
      default: 25000,
      env: 'LF_SHUTDOWN_GRACE_MS',
    },
  },
};

export interface Config {
  log: { level: string; format: 'auto' | 'json' | 'pretty' };
  stack: { dir: string; host: string; temporalBindHost: string; clientNetworks: string; prometheusPort: number; otelcolPort: number; otelcolPrometheusPort: number; jaegerPort: number; mariadbBufferPoolMb: number; kafkaClusterBasePort: number };
  cluster: { dir: string; linkCidr: string; podCidr: string; serviceCidr: string };
  /** dir: resolved when loaded (never empty). */
  cache: { dir: string };
  image: { caFile: string };
  kafka: {
    brokers: string[];
    clientId: string;
    topic: string;
    dlqTopic: string;
    partitions: number;
    replicationFactor: number;
    groupId: string;
    compression: 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';
    ssl: boolean;
    saslMechanism: '' | 'plain' | 'scram-sha-256' | 'scram-sha-512';
    saslUsername: string;
    saslPassword: string;
    saslPasswordFile: string;
    sslCaPath: string;
  };
  temporal: {
    address: string;
    namespace: string;
    taskQueue: string;
    tls: boolean;
    tlsCaPath: string;
    tlsServerName: string;
    tlsCertPath: string;
    tlsKeyPath: string;
    apiKey: string;
  };
  db: {
    dialect: 'mariadb' | 'singlestore';
    host: string;
    port: number;
    name: string;
    user: string;
    password: string;
    passwordFile: string;
    migrationUser: string;
    migrationPassword: string;
    migrationPasswordFile: string;
    poolSize: number;
    tls: boolean;
    tlsCaPath: string;
  };
  consumer: { batchMaxEvents: number; batchMaxBytes: number; lingerMs: number; partitionsConcurrently: number; batchesInFlight: number; sessionTimeoutMs: number; undecodableExitDelayMs: number; httpPort: number; stallWarnMs: number };
  worker: { maxConcurrentActivities: number; maxConcurrentWorkflowTasks: number; httpPort: number; sdkMetricsPort: number; backlogPollMs: number; unknownFailureAttempts: number };
  producer: { httpPort: number; fraudLabels: 'database' | 'none' };
  api: {
    host: string;
    port: number;
    pageSizeMax: number;
    ingestBatchMax: number;
    keysFile: string;
    keysReloadMs: number;
    rateLimitPerMinute: number;
    sessionTtlS: number;
    sessionCookieSecure: boolean;
    idempotencyRetentionS: number;
  };
  rules: { maxAmountMinor: string; overdraftLimitMinor: string; currencies: string[] };
  tracing: { enabled: boolean };
  otel: OtelConfig;
  fraud: FraudConfig;
  shutdown: { graceMs: number };
}

export type OtlpProtocol = (typeof OTLP_PROTOCOLS)[number];

export interface OtelConfig {
  metricsExporter: string;
  exporterOtlpEndpoint: string;
  exporterOtlpMetricsEndpoint: string;
  exporterOtlpTracesEndpoint: string;
  exporterOtlpProtocol: OtlpProtocol;
  exporterOtlpMetricsProtocol: OtlpProtocol | '';
  exporterOtlpTracesProtocol: OtlpProtocol | '';
  exporterOtlpHeaders: string;
  metricExportIntervalMs: number;
  metricExportTimeoutMs: number;
  resourceAttributes: string;
  bspScheduleDelayMs: number;
  bspMaxQueueSize: number;
  bspMaxExportBatchSize: number;
  bspExportTimeoutMs: number;
}

export interface FraudConfig extends FraudThresholds {
  enabled: boolean;
  modelPath: string;
  vectorRefreshMs: number;
  reviewThreshold: number;
  reviewEnabled: boolean;
  reviewOpensPerBatchMax: number;
  reviewQueueMax: number;
  reviewEscalateAfterMs: number;
}

/** The detection thresholds of the config, as the pure detector takes them. */
export function fraudThresholdsOf(config: Config): FraudThresholds {
  const { enabled: _e, modelPath: _m, vectorRefreshMs: _v, reviewThreshold: _r, reviewEnabled: _re, reviewOpensPerBatchMax: _rb, reviewQueueMax: _rq, reviewEscalateAfterMs: _ra, ...thresholds } = config.fraud;
  return thresholds;
}

/** Overrides use the same dotted keys as the schema, e.g. { 'kafka.topic': 'x' }. */
export type ConfigOverrides = Record<string, unknown>;

/**
 * A copy of a loaded config with dotted-key overrides applied (e.g. the benchmark's pipeline
 * settings on a run that was configured from env); an unknown key or a value of another type than
 * the setting's is LF_CONFIG.
 */
export function withOverrides(config: Config, overrides: ConfigOverrides): Config {
  const out = structuredClone(config) as unknown as Record<string, Record<string, unknown>>;
  for (const [key, value] of Object.entries(overrides)) {
    const [section, name, ...rest] = key.split('.');
    const group = section === undefined ? undefined : out[section];
    if (rest.length > 0 || name === undefined || group === undefined || !(name in group)) throw new LedgerflowError('LF_CONFIG', `unknown setting ${key}`, key);
    if (typeof group[name] !== typeof value) throw new LedgerflowError('LF_CONFIG', `${key}: expected a ${typeof group[name]}, got ${JSON.stringify(value)}`, key);
    group[name] = value;
  }
  return out as unknown as Config;
}

/**
 * The password of a database role: the env value if set, else the file's content, read when a
 * connection is made (the local stack may write the file after the config was loaded).
 */
export function dbPassword(config: Config, role: 'app' | 'migrate'): string {
  const { db, stack } = config;
  const [value, file, setting, fallback] =
    role === 'app'
      ? [db.password, db.passwordFile, 'db.passwordFile', 'db-app.password']
      : [db.migrationPassword, db.migrationPasswordFile, 'db.migrationPasswordFile', 'db-migrate.password'];
  if (value) return value;
  return readSecretFile(file || path.join(stack.dir, 'secrets', fallback), setting);
}

/** The key set the local stack writes into its secrets directory. */
export function stackApiKeysFilePath(config: Config): string {
  return path.resolve(config.stack.dir, 'secrets', 'api-keys.json');
}

/** The API key set: api.keysFile, or the local stack's. */
export function apiKeysFilePath(config: Config): string {
  return config.api.keysFile ? path.resolve(config.api.keysFile) : stackApiKeysFilePath(config);
}

/** The SASL password: kafka.saslPassword if set, else the content of kafka.saslPasswordFile. */
export function kafkaSaslPassword(config: Config): string {
  const { saslPassword, saslPasswordFile } = config.kafka;
  if (saslPassword || !saslPasswordFile) return saslPassword;
  return readSettingFile(saslPasswordFile, 'kafka.saslPasswordFile').toString('utf8').trim();
}

/**
 * A file a setting names (a CA, a certificate, a password file), read when a client is built; a
 * missing or unreadable file is LF_CONFIG naming the setting and its env var, not a stack trace.
 */
export function readSettingFile(file: string, setting: string): Buffer {
  try {
    return fs.readFileSync(path.resolve(file));
  } catch (err) {
    throw new LedgerflowError('LF_CONFIG', `${setting} (${envVarOf(setting) ?? 'no env var'}): cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, setting);
  }
}

function readSecretFile(file: string, setting: string): string {
  try {
    return fs.readFileSync(path.resolve(file), 'utf8').trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw new LedgerflowError('LF_CONFIG', `${setting}: cannot read ${file}: ${(err as Error).message}`, setting);
  }
}

/**
 * Loads and validates the configuration from env (or the given env object) and overrides.
 * A wrong value throws LF_CONFIG naming the setting and its env var.
 */
export function loadConfig(overrides: ConfigOverrides = {}, env: NodeJS.ProcessEnv = process.env): Config {
  const conf = convict(schema, { env, args: [] });
  for (const [key, value] of Object.entries(overrides)) {
    if (!conf.has(key as never)) throw new LedgerflowError('LF_CONFIG', `unknown setting ${key}`, key);
    conf.set(key as never, value as never);
  }
  try {
    conf.validate({ allowed: 'strict' });
  } catch (err) {
    throw new LedgerflowError('LF_CONFIG', `invalid configuration: ${describeConvictError(err as Error)}`);
  }
  const raw = conf.getProperties() as unknown as Record<string, Record<string, unknown>>;
  const kafka = raw.kafka as Record<string, unknown>;
  const rules = raw.rules as Record<string, unknown>;
  const cache = raw.cache as { dir: string };
  const config = {
    ...raw,
    cache: { dir: cache.dir || defaultCacheDir(env) },
    kafka: { ...kafka, brokers: String(kafka.brokers).split(',').map((b) => b.trim()) },
    rules: { ...rules, currencies: String(rules.currencies).split(',').map((c) => c.trim()) },
  } as unknown as Config;
  if (BigInt(config.rules.maxAmountMinor) <= 0n) {
    throw new LedgerflowError('LF_CONFIG', 'rules.maxAmountMinor (LF_RULES_MAX_AMOUNT_MINOR) must be above 0', 'rules.maxAmountMinor');
  }
  return config;
}

/** The XDG base-directory convention: $XDG_CACHE_HOME/ledgerflow, else ~/.cache/ledgerflow. */
function defaultCacheDir(env: NodeJS.ProcessEnv): string {
  const base = env.XDG_CACHE_HOME && path.isAbsolute(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : path.join(os.homedir(), '.cache');
  return path.join(base, 'ledgerflow');
}

/** Adds the env var to convict's "key: message" lines so the operator knows what to fix. */
function describeConvictError(err: Error): string {
  return err.message
    .split('\n')
    .map((line) => {
      const key = /^([a-zA-Z.]+):/.exec(line)?.[1];
      const envName = key ? envVarOf(key) : undefined;
      return envName ? `${line} (env ${envName})` : line;
    })
    .join('; ');
}

export function envVarOf(key: string): string | undefined {
  let node: unknown = schema;
  for (const part of key.split('.')) node = (node as Record<string, unknown> | undefined)?.[part];
  return (node as { env?: string } | undefined)?.env;
}

/** Every setting with its env var, default and doc: used by docs, the chart and tests. */
export function describeSettings(): Array<{ key: string; env: string; default: unknown; doc: string; sensitive: boolean }> {
  const out: Array<{ key: string; env: string; default: unknown; doc: string; sensitive: boolean }> = [];
  const walk = (node: Record<string, unknown>, prefix: string) => {
    for (const [name, value] of Object.entries(node)) {
      const v = value as Record<string, unknown>;
      if ('doc' in v && 'env' in v) {
        out.push({ key: prefix + name, env: v.env as string, default: v.default, doc: v.doc as string, sensitive: v.sensitive === true });
      } else walk(v, `${prefix}${name}.`);
    }
  };
  walk(schema as unknown as Record<string, unknown>, '');
  return out;
}

/** docs/configuration.md: every setting, generated from the schema (a test keeps the file in sync). */
export function settingsMarkdown(): string {
  const cell = (v: unknown) => String(v).replace(/\|/g, '\\|');
  const rows = describeSettings().map(
    (s) => `| \`${s.env}\` | \`${s.key}\` | ${s.sensitive ? '*(secret, no default)*' : `\`${cell(JSON.stringify(s.default))}\``} | ${cell(s.doc)} |`,
  );
  return [
    '# Configuration',
    '',
    'Every setting of every Ledgerflow process, from the one convict schema in `src/config.ts`.',
    'Settings come only from environment variables; a wrong value stops the process at start-up',
    'with `LF_CONFIG` naming the setting and its variable. Secrets have no default and come from',
    'the environment (Kubernetes Secrets); locally the stack writes password files instead.',
    'Regenerate with `npx tsx src/cli.ts config > docs/configuration.md`.',
    '',
    '| env var | setting | default | meaning |',
    '| --- | --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}
