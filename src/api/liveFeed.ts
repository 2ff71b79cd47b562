import type { Admin, Kafka } from 'kafkajs';
import { consumerGroupLag } from '../kafka/offsets';
import type { Pool } from '../store/pool';
import { recentStoreLatenciesMs, recentTransactions, statsSummary, type StatsSummary, type TransactionRow } from '../store/queries';
import type { Logger } from '../telemetry/log';

/** Twice a second, so "updated at least once per second" holds with timer and query jitter. */
export const LIVE_PUSH_EVERY_MS = 500;
/** How long a push waits for slow sources before sending what it has: pushes keep their pace. */
const SOURCE_WAIT_MS = 400;
/** Lag and DLQ ask the brokers at most once a second, however many pushes and clients. */
const KAFKA_REFRESH_MIN_MS = 1_000;
/** A value older than this is reported as missing rather than shown as current. */
const STALE_AFTER_MS = 5_000;
/** tx/s is the change of stored totals over this window: rollups move in batch-sized steps. */
const RATE_WINDOW_MS = 5_000;
const LATENCY_SAMPLE_ROWS = 1_000;
const RECENT_ROWS = 10;
const HISTORY_WINDOW_MS = 120_000;
const HISTORY_POINTS_MAX = 2 * (HISTORY_WINDOW_MS / LIVE_PUSH_EVERY_MS);

/** Where lag and the DLQ count come from; without it those fields report an error. */
export interface LiveKafkaSource {
  kafka: Kafka;
  topic: string;
  dlqTopic: string;
  groupId: string;
}

export interface LatencyFigure {
  basis: 'occurred→stored';
  sampleRows: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export interface ConsumerLag {
  total: string;
  partitions: Array<{ partition: number; lag: string }>;
}

/**
 * One `event: summary` payload. The StatsSummary fields are the original shape (present whenever
 * the totals query answered); every other field is null when its source failed, with the reason
 * in `errors[field]`.
 */
export type LiveSnapshot = Partial<StatsSummary> & {
  at: string;
  throughput: { storedPerSec: number | null };
  latency: LatencyFigure | null;
  recent: TransactionRow[] | null;
  lag: ConsumerLag | null;
  dlq: { count: string } | null;
  errors: Record<string, string>;
};

export interface HistoryPoint {
  atMs: number;
  storedPerSec: number | null;
  p50Ms: number | null;
  p99Ms: number | null;
}

export interface LiveFeed {
  /** Adds an SSE client; `send` gets whole frames. Returns the unsubscribe function. */
  subscribe(send: (frame: string) => void): () => void;
  clientCount(): number;
  close(): Promise<void>;
}

interface Source<T> {
  refresh(): Promise<void>;
  read(nowMs: number): { value: T | null; error?: string };
}

/**
 * A value refreshed by `load`: at most one load in flight, at most one started per
 * `minIntervalMs`; failures are logged when they start and end, not on every push.
 */
function createSource<T>(name: string, load: () => Promise<T>, log: Logger, isClosed: () => boolean, minIntervalMs = 0): Source<T> {
  let value: T | null = null;
  let okAtMs = 0;
  let startedAtMs = -Infinity;
  let error: string | undefined;
  let inFlight: Promise<void> | undefined;
  return {
    refresh: () => {
      if (inFlight) return inFlight;
      if (Date.now() - startedAtMs < minIntervalMs) return Promise.resolve();
      startedAtMs = Date.now();
      return (inFlight = load()
        .then((v) => {
          if (error !== undefined && !isClosed()) log.info({ source: name }, 'live source recovered');
          value = v;
          okAtMs = Date.now();
          error = undefined;
        })
        .catch((err: Error) => {
          if (error === undefined && !isClosed()) log.warn({ source: name, err: err.message }, 'live source failed');
          error = err.message || String(err);
        })
        .finally(() => (inFlight = undefined)));
    },
    read: (nowMs) => {
      if (error !== undefined) return { value: null, error };
      if (okAtMs === 0) return { value: null, error: 'no answer yet' };
      if (nowMs - okAtMs > STALE_AFTER_MS) return { value: null, error: `no answer for ${Math.round((nowMs - okAtMs) / 1000)} s` };
      return { value };
    },
  };
}

/** Nearest-rank percentile of an ascending array. */
function percentile(sorted: number[], p: number): number {
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}

const round1 = (n: number) => Math.round(n * 10) / 10;

function latencyFigure(samplesMs: number[]): LatencyFigure | null {
  if (samplesMs.length === 0) return null;
  const sorted = [...samplesMs].sort((a, b) => a - b);
  return {
    basis: 'occurred→stored',
    sampleRows: sorted.length,
    p50Ms: round1(percentile(sorted, 50)),
    p99Ms: round1(percentile(sorted, 99)),
    maxMs: round1(sorted[sorted.length - 1] ?? 0),
  };
}

/** Lag per partition: high watermark − committed offset (− low watermark when nothing is committed). */
async function fetchLag(admin: Admin, source: LiveKafkaSource): Promise<ConsumerLag> {
  let total = 0n;
  const partitions = (await consumerGroupLag(admin, source.topic, source.groupId))
    .map(({ partition, lag }) => {
      total += lag;
      return { partition, lag: lag.toString() };
    })
    .sort((a, b) => a.partition - b.partition);
  return { total: total.toString(), partitions };
}

async function fetchDlqCount(admin: Admin, dlqTopic: string): Promise<{ count: string }> {
  const offsets = await admin.fetchTopicOffsets(dlqTopic);
  return { count: offsets.reduce((sum, o) => sum + BigInt(o.high), 0n).toString() };
}

type IsClosed = () => boolean;

/** Totals from the rollups, and stored tx/s as their change over the last RATE_WINDOW_MS. */
function createTotalsSource(pool: Pool, log: Logger, isClosed: IsClosed) {
  // Oldest first; the first one is the newest sample at least RATE_WINDOW_MS old (once there is one).
  let samples: Array<{ atMs: number; stored: bigint }> = [];
  const source = createSource(
    'summary',
    async () => {
      const summary = await statsSummary(pool);
      const atMs = Date.now();
      const stored = BigInt(summary.transactions.applied) + BigInt(summary.transactions.rejected);
      samples.push({ atMs, stored });
      while (samples.length > 1 && (samples[1] as { atMs: number }).atMs <= atMs - RATE_WINDOW_MS) samples.shift();
      const oldest = samples[0] as { atMs: number; stored: bigint };
      const dtSec = (atMs - oldest.atMs) / 1000;
      return { summary, storedPerSec: dtSec > 0 ? round1(Number(stored - oldest.stored) / dtSec) : null };
    },
    log,
    isClosed,
  );
  // After an idle spell the old samples would average the rate over the gap.
  return { source, resetRate: () => (samples = []) };
}

/** Lag and DLQ count through one admin client, connected on first use and kept until close. */
function createKafkaSources(kafkaSource: LiveKafkaSource | undefined, log: Logger, isClosed: IsClosed) {
  const admin = kafkaSource?.kafka.admin();
  let connected: Promise<void> | undefined;
  const withAdmin = async <T>(work: (a: Admin, k: LiveKafkaSource) => Promise<T>): Promise<T> => {
    if (!admin || !kafkaSource) throw new Error('the live feed was started without Kafka settings');
    connected ??= admin.connect().catch((err: Error) => {
      connected = undefined;
      throw err;
    });
    await connected;
    return work(admin, kafkaSource);
  };
  return {
    lag: createSource('lag', () => withAdmin(fetchLag), log, isClosed, KAFKA_REFRESH_MIN_MS),
    dlq: createSource('dlq', () => withAdmin((a, k) => fetchDlqCount(a, k.dlqTopic)), log, isClosed, KAFKA_REFRESH_MIN_MS),
    close: async () => {
      if (connected) await connected.then(() => admin?.disconnect()).catch(() => undefined);
    },
  };
}

interface FeedSources {
  totals: Source<{ summary: StatsSummary; storedPerSec: number | null }>;
  latency: Source<LatencyFigure | null>;
  recent: Source<TransactionRow[]>;
  lag: Source<ConsumerLag>;
  dlq: Source<{ count: string }>;
}

/** What every source has now; a failed or stale one is null with its reason in `errors`. */
function readSnapshot(sources: FeedSources): LiveSnapshot {
  const nowMs = Date.now();
  const errors: Record<string, string> = {};
  const field = <T>(name: string, source: Source<T>): T | null => {
    const { value, error } = source.read(nowMs);
    if (error !== undefined) errors[name] = error;
    return value;
  };
  const totals = field('summary', sources.totals);
  return {
    at: new Date(nowMs).toISOString(),
    ...(totals?.summary ?? {}),
    throughput: { storedPerSec: totals?.storedPerSec ?? null },
    latency: field('latency', sources.latency),
    recent: field('recent', sources.recent),
    lag: field('lag', sources.lag),
    dlq: field('dlq', sources.dlq),
    errors,
  };
}

/** The charts' last HISTORY_WINDOW_MS, sent once to each new client so its charts start full. */
function createHistory() {
  const points: HistoryPoint[] = [];
  return {
    add: (s: LiveSnapshot) => {
      const atMs = Date.parse(s.at);
      points.push({ atMs, storedPerSec: s.throughput.storedPerSec, p50Ms: s.latency?.p50Ms ?? null, p99Ms: s.latency?.p99Ms ?? null });
      while (points.length > HISTORY_POINTS_MAX || (points[0] && points[0].atMs < atMs - HISTORY_WINDOW_MS)) points.shift();
    },
    /** A null point, so charts show the idle spell as a gap rather than a line across it. */
    gap: () => {
      const last = points[points.length - 1];
      if (last && last.storedPerSec !== null) points.push({ atMs: last.atMs + 1, storedPerSec: null, p50Ms: null, p99Ms: null });
    },
    frame: () => `event: history\ndata: ${JSON.stringify({ points })}\n\n`,
  };
}

/**
 * The live page's data: one timer for all SSE clients (running only while there are clients),
 * one DB read per source per push and one Kafka admin per api process, whatever the client count.
 */
export function createLiveFeed(pool: Pool, log: Logger, kafkaSource?: LiveKafkaSource): LiveFeed {
  const clients = new Map<(frame: string) => void, { historySent: boolean }>();
  const history = createHistory();
  let timer: NodeJS.Timeout | undefined;
  let latestFrame: string | undefined;
  let pushing = false;
  let closed = false;
  const isClosed = () => closed;
  const totals = createTotalsSource(pool, log, isClosed);
  const kafka = createKafkaSources(kafkaSource, log, isClosed);
  const sources: FeedSources = {
    totals: totals.source,
    latency: createSource('latency', async () => latencyFigure(await recentStoreLatenciesMs(pool, LATENCY_SAMPLE_ROWS)), log, isClosed),
    recent: createSource('recent', () => recentTransactions(pool, RECENT_ROWS), log, isClosed),
    lag: kafka.lag,
    dlq: kafka.dlq,
  };

  const push = async () => {
    if (pushing || closed) return;
    pushing = true;
    try {
      const all = Promise.all(Object.values(sources).map((s: Source<unknown>) => s.refresh()));
      await Promise.race([all, new Promise((resolve) => setTimeout(resolve, SOURCE_WAIT_MS).unref())]);
      if (closed || clients.size === 0) return;
      const snapshot = readSnapshot(sources);
      history.add(snapshot);
      latestFrame = `event: summary\ndata: ${JSON.stringify(snapshot)}\n\n`;
      for (const [send, state] of clients) {
        send(latestFrame);
        if (!state.historySent) send(history.frame());
        state.historySent = true;
      }
    } finally {
      pushing = false;
    }
  };

  const start = () => {
    // Restarting after an idle spell: neither the old rate samples nor the old frame describe now.
    totals.resetRate();
    latestFrame = undefined;
    history.gap();
    timer = setInterval(() => void push(), LIVE_PUSH_EVERY_MS);
    void push();
  };
  const stop = () => {
    clearInterval(timer);
    timer = undefined;
  };

  return {
    subscribe: (send) => {
      if (closed) return () => undefined;
      const caughtUp = Boolean(latestFrame && timer);
      if (caughtUp) {
        send(latestFrame as string);
        send(history.frame());
      }
      clients.set(send, { historySent: caughtUp });
      if (!timer) start();
      return () => {
        clients.delete(send);
        if (clients.size === 0) stop();
      };
    },
    clientCount: () => clients.size,
    close: async () => {
      closed = true;
      stop();
      clients.clear();
      await kafka.close();
    },
  };
}
