import fs from 'node:fs';
import path from 'node:path';
import type { Admin } from 'kafkajs';
import type { Config, ConfigOverrides } from '../config';
import { createKafka } from '../kafka/client';
import { createPool } from '../store/pool';
import { createLogger } from '../telemetry/log';
import { verify } from '../verify';
import { createBenchEnv, type BenchEnv } from './env';
import { freePort } from '../stack/process';
import { cpuBetween, sampleCpu, stackPids, type CpuSample, type CpuUse } from './cpu';
import { spawnLedgerflow, waitReady, type Child } from './processes';
import { summariseProfiles, type ProfileSummary } from './profile';
import { resultsDir } from './results';
import { bucketsBetween, histogramQuantile, parseHistogram, round, type Bucket } from './stats';
import { lineChart } from './svg';
import { produceArgs, type Workload } from './workload';
import { platformaticWritesZstd } from '../producer/senders';

export interface PipelineOptions {
  durationS: number;
  warmupS: number;
  /** Events produced before the consumer starts, for the max-throughput phase (its backlog). */
  backlog: number;
  /** Rate of the latency phase; 0 = half the measured max. */
  latencyRate: number;
  latencyDurationS: number;
  workers: number;
  accounts: number;
  seed: number;
  workload: Workload;
  /** Settings for the consumer and worker processes (e.g. consumer.batchMaxEvents). */
  settings: ConfigOverrides;
  nodeFlags: string[];
  /** Write --cpu-prof profiles of the consumer and workers and summarise where the time goes. */
  profile: boolean;
  /** Share of malformed events the producer writes (dead-lettered by the consumer); 0 by default. */
  malformedRatio?: number;
  /** Max phase only: the producer's and broker's CPU while writing the backlog, and a verify of the run before its data is dropped. */
  audit?: boolean;
}

export interface PhaseResult {
  label: string;
  produceRate: number;
  /** Committed events per second over the measured window (after warm-up). */
  txPerSec: number;
  windowS: number;
  committed: number;
  rowsStored: number;
  latencyMs: { p50: number; p95: number; p99: number; samples: number };
  /** [seconds, committed events/s] and [seconds, produced events/s] per sample. */
  committedTimeline: Array<[number, number]>;
  producedTimeline: Array<[number, number]>;
  /** Directory (under bench/results) of this phase's --cpu-prof files, when profiled. */
  profileDir?: string;
  profile?: ProfileSummary;
  diagnostics: PhaseDiagnostics;
  /** CPU of every process on the box over the measured window (services and the bench's children). */
  cpu?: CpuUse;
  /** With `audit`: CPU of the producer and the broker while the backlog was written. */
  produceCpu?: CpuUse;
  /** With `audit`: what verify found once the backlog was committed. */
  verified?: { events: number; lost: number; duplicated: number; malformed: number; dlqComplete: boolean; ok: boolean };
}

export interface PipelineResult {
  max: PhaseResult;
  /** Absent when the latency phase was skipped (--latency-duration 0, for tuning runs). */
  halfLoad?: PhaseResult;
}

const LATENCY_METRIC = 'ledgerflow_produce_to_commit_seconds';
const SAMPLE_MS = 1_000;

async function offsetsSum(admin: Admin, topic: string, groupId: string): Promise<{ committed: number; high: number }> {
  const [highs, [group]] = await Promise.all([admin.fetchTopicOffsets(topic), admin.fetchOffsets({ groupId, topics: [topic] })]);
  const committed = (group?.partitions ?? []).reduce((acc, p) => acc + Math.max(0, Number(p.offset)), 0);
  return { committed, high: highs.reduce((acc, h) => acc + Number(h.high), 0) };
}

async function scrapeLatency(port: number): Promise<Bucket[]> {
  const text = await fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text(), () => '');
  return parseHistogram(text, LATENCY_METRIC);
}

interface Processes {
  consumer: Child;
  workers: Child[];
  consumerPort: number;
  workerPorts: number[];
}

/** What the processes' own metrics say about the phase: batch sizes, apply times, retried failures. */
export interface PhaseDiagnostics {
  batches: number;
  batchSizeAvg: number;
  applyMs: { p50: number; p99: number };
  /** Consumer: from workflow start to offset commit, per batch (apply plus Temporal's share). */
  batchMs: { p50: number; p99: number };
  /** applyBatch attempts that failed (and were retried), by error code, e.g. ER_LOCK_DEADLOCK. */
  activityFailures: Record<string, number>;
}

async function metricsText(port: number): Promise<string> {
  return fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text(), () => '');
}

function sumOf(text: string, series: string): number {
  return text.split('\n').filter((l) => l.startsWith(series)).reduce((acc, l) => acc + Number(l.split(' ').pop()), 0);
}

async function diagnostics(p: Processes): Promise<PhaseDiagnostics> {
  const consumer = await metricsText(p.consumerPort);
  const workers = await Promise.all(p.workerPorts.map(metricsText));
  const apply = workers.map((w) => parseHistogram(w, 'ledgerflow_apply_duration_seconds'));
  const merged = (apply[0] ?? []).map((b, i) => ({ le: b.le, count: apply.reduce((acc, h) => acc + (h[i]?.count ?? 0), 0) }));
  const activityFailures: Record<string, number> = {};
  for (const w of workers) {
    for (const m of w.matchAll(/^ledgerflow_activity_failures_total\{[^}]*code="([^"]+)"[^}]*\} (\S+)$/gm)) {
      activityFailures[m[1] as string] = (activityFailures[m[1] as string] ?? 0) + Number(m[2]);
    }
  }
  const batches = sumOf(consumer, 'ledgerflow_batch_size_count');
  const batch = parseHistogram(consumer, 'messaging_process_duration_seconds');
  return {
    batches,
    batchSizeAvg: batches > 0 ? round(sumOf(consumer, 'ledgerflow_batch_size_sum') / batches, 0) : 0,
    applyMs: { p50: round(histogramQuantile(merged, 0.5) * 1000, 0), p99: round(histogramQuantile(merged, 0.99) * 1000, 0) },
    batchMs: { p50: round(histogramQuantile(batch, 0.5) * 1000, 0), p99: round(histogramQuantile(batch, 0.99) * 1000, 0) },
    activityFailures,
  };
}

async function startPipeline(env: BenchEnv, options: PipelineOptions, profileDir: string | undefined): Promise<Processes> {
  const flags = [...options.nodeFlags, ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [])];
  const workers: Child[] = [];
  const workerPorts: number[] = [];
  for (let i = 0; i < options.workers; i++) {
    const port = await freePort();
    workerPorts.push(port);
    // Each worker its own SDK metrics port: the default one may be taken (another worker, the demo).
    const worker = spawnLedgerflow(`worker-${i}`, ['work'], env.childEnv({ ...options.settings, 'worker.httpPort': port, 'worker.sdkMetricsPort': await freePort() }), flags, `${env.runId}-worker-${i}`);
    workers.push(worker);
    await waitReady(`http://127.0.0.1:${port}/readyz`, worker, 60_000);
  }
  const consumerPort = await freePort();
  const consumer = spawnLedgerflow('consumer', ['consume'], env.childEnv({ ...options.settings, 'consumer.httpPort': consumerPort }), flags, `${env.runId}-consumer`);
  await waitReady(`http://127.0.0.1:${consumerPort}/readyz`, consumer, 60_000);
  return { consumer, workers, consumerPort, workerPorts };
}

/**
 * A `produce` process. A rate-limited one (the latency phase) shares the 2 cores with the pipeline
 * it loads, so it costs as little as it can (decision 015): it generates its events before it
 * reports ready (`--prepare`; the phase's clock starts then), and sends them with
 * @platformatic/kafka (`--client platformatic`: ~5.6 µs of CPU less per event than kafkajs).
 */
async function produce(env: BenchEnv, options: PipelineOptions, rate: number, count: number): Promise<Child> {
  const port = await freePort();
  const args = ['produce', '--rate', String(rate), '--count', String(count), '--accounts', String(options.accounts), '--seed', String(options.seed), ...produceArgs(options.workload), ...(rate > 0 ? ['--prepare', '--client', 'platformatic'] : []), ...(options.malformedRatio ? ['--malformed', String(options.malformedRatio)] : [])];
  // @platformatic/kafka writes zstd only with node:zlib's zstd (Node 22.15+); on an older Node the
  // load generator's batches go out as lz4, which every consumer reads (decision 016).
  const codec = rate > 0 && env.config.kafka.compression === 'zstd' && !platformaticWritesZstd() ? { 'kafka.compression': 'lz4' } : {};
  const child = spawnLedgerflow('producer', args, env.childEnv({ 'producer.httpPort': port, ...codec }));
  if (rate > 0) await waitReady(`http://127.0.0.1:${port}/readyz`, child, PREPARE_TIMEOUT_MS);
  return child;
}

/**
 * CPU of a child (and the broker) until the child exits, sampled every half second: /proc forgets
 * an exited process, so the last sample before the exit stands for the whole run.
 */
async function cpuUntilExit(child: Child, kafkaPid: number | undefined, events: number): Promise<CpuUse | undefined> {
  const pid = child.process.pid;
  if (pid === undefined) return undefined;
  const pids = { producer: pid, ...(kafkaPid ? { kafka: kafkaPid } : {}) };
  const first = sampleCpu(pids);
  let last = first;
  while (child.process.exitCode === null) {
    await new Promise((r) => setTimeout(r, 500));
    const next = sampleCpu(pids);
    if (child.process.exitCode === null && Object.keys(next.seconds).length === Object.keys(pids).length) last = next;
  }
  return cpuBetween(first, last, events);
}

/** Generating ~2 M events takes ~7 s on the 2-core box. */
const PREPARE_TIMEOUT_MS = 120_000;

async function exitOf(child: Child): Promise<number | null> {
  if (child.process.exitCode !== null) return child.process.exitCode;
  return new Promise((resolve) => child.process.once('exit', (code) => resolve(code)));
}

/**
 * One phase on fresh names: start real `work` and `consume` processes, feed them with a real
 * `produce` process, and read committed offsets (the durable progress) once a second.
 */
export async function runPhase(baseConfig: Config, options: PipelineOptions, label: string, rate: number, durationS: number, log: (line: string) => void): Promise<PhaseResult> {
  const env = await createBenchEnv(`pipe-${label}`, { overrides: { 'log.level': 'warn', ...options.settings } });
  const { config } = env;
  const profileDir = options.profile ? path.join(resultsDir(), 'profiles', `${label}-${env.runId}`) : undefined;
  const admin = createKafka(config, 'bench-sampler').admin();
  await admin.connect();
  let producer: Child | undefined;
  let processes: Processes | undefined;
  const audited: Pick<PhaseResult, 'produceCpu' | 'verified'> = {};
  try {
    if (rate === 0) {
      // Max phase: the backlog is written first, so the producer does not compete for the 2 cores.
      const prefill = await produce(env, options, 0, options.backlog);
      const produceCpu = options.audit ? cpuUntilExit(prefill, stackPids(config).kafka, options.backlog) : undefined;
      if ((await exitOf(prefill)) !== 0) throw new Error(`producer failed:\n${prefill.tail()}`);
      audited.produceCpu = await produceCpu;
      log(`bench pipeline ${label}: ${options.backlog} events produced`);
    }
    processes = await startPipeline(env, options, profileDir);
    if (rate > 0) producer = await produce(env, options, rate, Math.ceil(rate * (durationS + options.warmupS + 30)));
    const committedTimeline: Array<[number, number]> = [];
    const producedTimeline: Array<[number, number]> = [];
    const started = Date.now();
    let previous = await offsetsSum(admin, config.kafka.topic, config.kafka.groupId);
    let windowStart: { at: number; committed: number; buckets: Bucket[]; cpu: CpuSample } | undefined;
    const pids = (): Record<string, number> => {
      const out: Record<string, number> = { ...stackPids(config) };
      const children = [processes?.consumer, ...(processes?.workers ?? []), producer].filter((c): c is Child => c !== undefined);
      for (const c of children) if (c.process.pid !== undefined) out[c.name] = c.process.pid;
      return out;
    };
    const windowEndAt = started + (options.warmupS + durationS) * 1000;
    while (Date.now() < windowEndAt) {
      await new Promise((r) => setTimeout(r, SAMPLE_MS));
      const now = await offsetsSum(admin, config.kafka.topic, config.kafka.groupId);
      const t = round((Date.now() - started) / 1000, 1);
      committedTimeline.push([t, now.committed - previous.committed]);
      producedTimeline.push([t, now.high - previous.high]);
      previous = now;
      if (!windowStart && Date.now() >= started + options.warmupS * 1000) {
        windowStart = { at: Date.now(), committed: now.committed, buckets: await scrapeLatency(processes.consumerPort), cpu: sampleCpu(pids()) };
      }
      if (rate === 0 && now.committed >= options.backlog) break; // backlog drained: the window ends here
      if (processes.consumer.process.exitCode !== null) throw new Error(`consumer exited:\n${processes.consumer.tail()}`);
    }
    const endCpu = sampleCpu(pids());
    const end = { at: Date.now(), committed: previous.committed, buckets: await scrapeLatency(processes.consumerPort) };
    const from = windowStart ?? { at: started, committed: 0, buckets: [] };
    const windowS = (end.at - from.at) / 1000;
    const latency = bucketsBetween(from.buckets, end.buckets);
    const samples = latency[latency.length - 1]?.count ?? 0;
    const pool = createPool(config, 'app', 1);
    const [count] = await pool.query('SELECT COUNT(*) AS n FROM transactions').finally(() => pool.end());
    const result: PhaseResult = {
      label,
      produceRate: rate,
      txPerSec: round((end.committed - from.committed) / windowS, 0),
      windowS: round(windowS, 1),
      committed: end.committed,
      rowsStored: Number((count as Array<{ n: string }>)[0]?.n ?? 0),
      latencyMs: {
        p50: round(histogramQuantile(latency, 0.5) * 1000, 0),
        p95: round(histogramQuantile(latency, 0.95) * 1000, 0),
        p99: round(histogramQuantile(latency, 0.99) * 1000, 0),
        samples,
      },
      committedTimeline,
      producedTimeline,
      diagnostics: await diagnostics(processes),
      ...(windowStart ? { cpu: cpuBetween(windowStart.cpu, endCpu, end.committed - from.committed) } : {}),
      ...(profileDir ? { profileDir: path.relative(resultsDir(), profileDir) } : {}),
    };
    if (options.audit && rate === 0) {
      const report = await verify(config, { waitMs: 60_000 }, createLogger('warn', 'bench-verify'));
      audited.verified = { events: report.produced, lost: report.missing, duplicated: report.duplicated, malformed: report.malformed, dlqComplete: report.dlqMissing === 0 && report.dlqWithoutReason === 0, ok: report.ok };
      Object.assign(result, audited);
      log(`bench pipeline ${label}: verify ${report.ok ? 'ok' : 'FAILED'}: ${report.produced} events, ${report.missing} lost, ${report.duplicated} duplicated, ${report.dlqFound}/${report.malformed} malformed in the DLQ`);
    }
    log(`bench pipeline ${label}: ${result.txPerSec} tx/s committed over ${result.windowS} s; produce→commit p50 ${result.latencyMs.p50} ms p99 ${result.latencyMs.p99} ms`);
    if (rate === 0 && !options.audit && result.windowS < durationS - 1) log(`bench pipeline ${label}: the backlog ran out after ${result.windowS} of ${durationS} s: not a sustained ${durationS} s figure, raise --backlog`);
    if (result.cpu) log(`bench pipeline ${label}: cores busy ${result.cpu.totalCores} — ${Object.entries(result.cpu.cores).map(([n, c]) => `${n} ${c}`).join(', ')}`);
    return result;
  } finally {
    await producer?.stop(10_000);
    if (processes) {
      await processes.consumer.stop(baseConfig.shutdown.graceMs + 5_000);
      await Promise.all(processes.workers.map((w) => w.stop(baseConfig.shutdown.graceMs + 5_000)));
    }
    await admin.disconnect();
    await env.dispose();
  }
}

export async function runPipeline(config: Config, options: PipelineOptions, log: (line: string) => void): Promise<PipelineResult> {
  const max = await runPhase(config, options, 'max', 0, options.durationS, log);
  // Profiles are written when the processes exit, so they are read after the phase.
  const profileDir = max.profileDir ? path.join(resultsDir(), max.profileDir) : undefined;
  if (profileDir && fs.existsSync(profileDir)) max.profile = summariseProfiles(profileDir);
  if (options.latencyDurationS === 0) return { max };
  const rate = options.latencyRate > 0 ? options.latencyRate : Math.max(100, Math.floor(max.txPerSec / 2));
  const halfLoad = await runPhase(config, { ...options, profile: false }, 'half', rate, options.latencyDurationS, log);
  return { max, halfLoad };
}

export function pipelineChart(r: PipelineResult): string {
  const half = r.halfLoad;
  return lineChart(
    `Pipeline: ${r.max.txPerSec} tx/s max${half ? `; p99 ${half.latencyMs.p99} ms at ${half.produceRate} tx/s` : ''}`,
    'seconds since the consumer started',
    'events/s',
    [
      { name: 'committed (max)', points: r.max.committedTimeline },
      ...(half
        ? [
            { name: 'committed (half)', points: half.committedTimeline },
            { name: 'produced (half)', points: half.producedTimeline },
          ]
        : []),
    ],
  );
}
