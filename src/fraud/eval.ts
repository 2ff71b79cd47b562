import fs from 'node:fs';
import path from 'node:path';
import { PIPELINE_SETTINGS } from '../bench';
import { withOverrides, type Config } from '../config';
import { evaluateFlags, type Score } from '../domain/fraud/evaluate';
import { startConsumer } from '../consumer';
import { createKafka } from '../kafka/client';
import { startProducer } from '../producer';
import { FRAUD_PATTERNS } from '../producer/traffic';
import { stackUp } from '../stack';
import { insertFraudVectors } from '../store/fraud';
import { allFraudLabels } from '../store/fraudLabels';
import { migrate } from '../store/migrate';
import { createPool, type Pool } from '../store/pool';
import type { Logger } from '../telemetry/log';
import { startWorker } from '../worker';
import { loadFraudModel } from '../worker/fraud';
import { gitCommit, machine } from '../telemetry/provenance';
import { DEFAULT_CPU_RATE_PER_SEC, measureOverhead } from './overhead';
import type { TrainedModel } from './train';

export interface EvalOptions {
  seed: number;
  count: number;
  accounts: number;
  fraudRate: number;
  /** Model from `fraud train` (empty: rules and statistics only). */
  modelPath: string;
  /** Where the JSON report goes. */
  out: string;
  /** Longest wait for the workload to drain. */
  phaseTimeoutMs?: number;
  /** Off/on pairs of the CPU measurement (at least 2 for a spread). */
  rounds?: number;
  /** Measured seconds of each CPU phase (60 or more for a figure worth quoting). */
  phaseS?: number;
  /** Events per second through the CPU phases. */
  ratePerSec?: number;
}

interface DetectionRun {
  config: Config;
  stored: number;
  elapsedMs: number;
}

const rounded = (x: number, digits = 4) => Number(x.toFixed(digits));

/**
 * The run's own topic, group, task queue and database, so nothing else is disturbed, on the
 * benchmark's pipeline settings (12 partitions, large batches, 16 activity slots and connections).
 */
function runConfig(base: Config, modelPath: string): Config {
  const suffix = 'fraud-eval';
  const config = withOverrides(base, PIPELINE_SETTINGS);
  return {
    ...config,
    kafka: { ...config.kafka, topic: `${config.kafka.topic}-${suffix}`, dlqTopic: `${config.kafka.topic}-${suffix}.dlq`, groupId: `${config.kafka.groupId}-${suffix}` },
    temporal: { ...config.temporal, taskQueue: `${config.temporal.taskQueue}-${suffix}` },
    db: { ...config.db, name: `${config.db.name}_${suffix.replace('-', '_')}`.slice(0, 64) },
    consumer: { ...config.consumer, httpPort: 0 },
    worker: { ...config.worker, httpPort: 0, sdkMetricsPort: 0 },
    fraud: { ...config.fraud, enabled: true, reviewEnabled: false, modelPath },
  };
}

async function storedCount(pool: Pool): Promise<number> {
  const [rows] = await pool.query('SELECT COUNT(*) AS n FROM transactions');
  return Number((rows as Array<{ n: string }>)[0]?.n);
}

/** The labelled workload produced, then consumer + worker with detection on until every row is stored. */
async function runDetection(config: Config, options: EvalOptions, log: Logger): Promise<DetectionRun> {
  await stackUp(config, { log: () => undefined });
  await migrate(config);
  const pool = createPool(config, 'app', 2);
  try {
    const model = config.fraud.modelPath ? (loadFraudModel(config.fraud.modelPath) as TrainedModel) : null;
    if (model?.fraudVectors?.length) await insertFraudVectors(pool, model.fraudVectors, 'training');
    const producer = await startProducer(config, { ratePerSec: 0, count: options.count, accounts: options.accounts, seed: options.seed, malformedRatio: 0, fraudRate: options.fraudRate, clock: 'simulated', labels: { database: true } }, log);
    await producer.done;
    log.info({ topic: config.kafka.topic }, 'workload produced; consuming');
    const worker = await startWorker(config, log);
    const consumer = await startConsumer(config, log);
    const started = Date.now();
    const deadline = started + (options.phaseTimeoutMs ?? 3_600_000);
    let stored = 0;
    while ((stored = await storedCount(pool)) < options.count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 500));
    const elapsedMs = Date.now() - started;
    await consumer.stop();
    await worker.stop();
    return { config, stored, elapsedMs };
  } finally {
    await pool.end();
  }
}

function quantile(sorted: number[], q: number): number {
  return sorted.length === 0 ? 0 : (sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number);
}

async function readFlags(config: Config) {
  const pool = createPool(config, 'app', 1);
  try {
    const [rows] = await pool.query(
      `SELECT f.tx_id, f.detectors, f.late, f.batch_id = t.batch_id AS same_batch,
              GREATEST(0, TIMESTAMPDIFF(MICROSECOND, t.ingested_at, f.created_at)) AS latency_us
         FROM fraud_flags f JOIN transactions t ON t.id = f.tx_id`,
    );
    return rows as Array<{ tx_id: string; detectors: string; late: number; same_batch: number; latency_us: string }>;
  } finally {
    await pool.end();
  }
}

async function dropRun(config: Config): Promise<void> {
  const pool = createPool(config, 'migrate', 1);
  await pool.query('DROP DATABASE IF EXISTS ??', [config.db.name]).finally(() => pool.end());
  const admin = createKafka(config, 'fraud-eval-cleanup').admin();
  await admin.connect();
  await admin.deleteTopics({ topics: [config.kafka.topic, config.kafka.dlqTopic] }).catch(() => undefined).finally(() => admin.disconnect());
}

/**
 * `ledgerflow fraud eval`: the labelled workload through the real pipeline with detection on, flags
 * joined with the producer's labels (precision, recall, F1 overall and per pattern, flag latency),
 * then detection's cost as CPU per committed event (overhead.ts). Writes the JSON report.
 */
export async function evaluate(config: Config, options: EvalOptions, log: Logger) {
  fs.mkdirSync(path.dirname(path.resolve(options.out)), { recursive: true });
  const run = await runDetection(runConfig(config, options.modelPath), options, log);
  const labelPool = createPool(run.config, 'app', 1);
  const labels = await allFraudLabels(labelPool).finally(() => labelPool.end());
  const rows = await readFlags(run.config);
  await dropRun(run.config);
  const overhead = await measureOverhead(
    config,
    { seed: options.seed + 1, accounts: options.accounts, fraudRate: options.fraudRate, modelPath: options.modelPath, ratePerSec: options.ratePerSec ?? DEFAULT_CPU_RATE_PER_SEC, phaseS: options.phaseS ?? 60, rounds: options.rounds ?? 2 },
    log,
  );
  const flags = new Map(rows.map((r) => [r.tx_id, { detectors: r.detectors.split(',') }]));
  const { overall, perPattern } = evaluateFlags(labels, flags, FRAUD_PATTERNS);
  const inBatch = rows.filter((r) => Number(r.late) === 0);
  const late = rows.filter((r) => Number(r.late) === 1);
  const latencyMs = (list: typeof rows) => list.map((r) => Number(r.latency_us) / 1000).sort((a, b) => a - b);
  const detectorCounts: Record<string, number> = {};
  for (const r of rows) for (const d of r.detectors.split(',')) detectorCounts[d] = (detectorCounts[d] ?? 0) + 1;
  const model = options.modelPath ? loadFraudModel(options.modelPath) : null;
  const score = (s: Score) => ({ precision: rounded(s.precision), recall: rounded(s.recall), f1: rounded(s.f1), truePositives: s.truePositives, falsePositives: s.falsePositives, falseNegatives: s.falseNegatives });
  const representative = overhead.phaseS >= 60 && overhead.roundOverheadPct.length >= 2;
  const report = {
    commit: gitCommit(),
    machine: { ...machine(), shared: 'the load average is that of the whole box at the end of the run: other work shares these cores' },
    seed: options.seed,
    trainSeed: model?.trainedOn.seed ?? null,
    transactions: run.stored,
    accounts: options.accounts,
    fraudInjected: labels.size,
    fraudShare: rounded(labels.size / Math.max(1, run.stored)),
    flagged: rows.length,
    ...score(overall),
    perPattern: Object.fromEntries(Object.entries(perPattern).map(([p, s]) => [p, score(s)])),
    detectors: detectorCounts,
    flagLatencyMs: {
      note: 'flag created_at minus its transaction ingested_at (both database clocks, floored at 0: a flag of its own batch is written in the same database transaction as the row, before it, and both become visible at commit); p50/p99 over flags stored by their own transaction\'s batch; late = flagged from a later batch (earlier legs of a round trip once the cycle closes, first members of a burst that began in an earlier batch)',
      p50: rounded(quantile(latencyMs(inBatch), 0.5), 3),
      p99: rounded(quantile(latencyMs(inBatch), 0.99), 3),
      sameBatchShare: rounded(inBatch.filter((r) => Number(r.same_batch) === 1).length / Math.max(1, inBatch.length)),
      lateFlags: late.length,
      lateP99: rounded(quantile(latencyMs(late), 0.99), 3),
      allP99: rounded(quantile(latencyMs(rows), 0.99), 3),
    },
    cpu: overhead,
    detectionOverheadPct: overhead.overheadPct,
    detectionOverheadSpreadPct: overhead.spreadPct,
    overheadTargetPct: 15,
    overheadRepresentative: representative,
    model: model ? { components: model.components.length, trainedOn: model.trainedOn, fraudVectors: (model as TrainedModel).fraudVectors?.length ?? 0 } : null,
    complete: run.stored === options.count,
    generatedAt: new Date().toISOString(),
  };
  fs.writeFileSync(path.resolve(options.out), `${JSON.stringify(report, null, 2)}\n`);
  return report;
}
