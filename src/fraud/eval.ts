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
  /** Longest wait for one phase to drain. */
  phaseTimeoutMs?: number;
  /** Off/on pairs to run; alternating spreads the shared machine's drift over both sides. */
  rounds?: number;
}

interface PhaseResult {
  config: Config;
  stored: number;
  /** Transactions per second between the first and the last stored row. */
  txPerS: number;
  elapsedMs: number;
}

const rounded = (x: number, digits = 4) => Number(x.toFixed(digits));

/**
 * The run's own topic, group, task queue and database per phase, so nothing else is disturbed, on
 * the benchmark's pipeline settings (12 partitions, 2,000-event batches, 16 activity slots and
 * connections): detection's cost is measured on the pipeline whose throughput it takes a share of.
 */
function phaseConfig(base: Config, phase: 'off' | 'on', round: number, modelPath: string): Config {
  const suffix = `fraud-${phase}${round}`;
  const config = withOverrides(base, PIPELINE_SETTINGS);
  return {
    ...config,
    kafka: { ...config.kafka, topic: `${config.kafka.topic}-${suffix}`, dlqTopic: `${config.kafka.topic}-${suffix}.dlq`, groupId: `${config.kafka.groupId}-${suffix}` },
    temporal: { ...config.temporal, taskQueue: `${config.temporal.taskQueue}-${suffix}` },
    db: { ...config.db, name: `${config.db.name}_${suffix.replace('-', '_')}`.slice(0, 64) },
    consumer: { ...config.consumer, httpPort: 0 },
    worker: { ...config.worker, httpPort: 0, sdkMetricsPort: 0 },
    fraud: { ...config.fraud, enabled: phase === 'on', reviewEnabled: false, modelPath: phase === 'on' ? modelPath : '' },
  };
}

async function storedCount(pool: Pool): Promise<number> {
  const [rows] = await pool.query('SELECT COUNT(*) AS n FROM transactions');
  return Number((rows as Array<{ n: string }>)[0]?.n);
}

/** One phase: produce the labelled workload, then run consumer + worker until every row is stored. */
async function runPhase(config: Config, options: EvalOptions, log: Logger): Promise<PhaseResult> {
  await stackUp(config, { log: () => undefined });
  await migrate(config);
  const pool = createPool(config, 'app', 2);
  try {
    const model = config.fraud.modelPath ? (loadFraudModel(config.fraud.modelPath) as TrainedModel) : null;
    if (model?.fraudVectors?.length) await insertFraudVectors(pool, model.fraudVectors, 'training');
    const producer = await startProducer(config, { ratePerSec: 0, count: options.count, accounts: options.accounts, seed: options.seed, malformedRatio: 0, fraudRate: options.fraudRate, clock: 'simulated', labels: { database: true } }, log);
    await producer.done;
    log.info({ topic: config.kafka.topic, detection: config.fraud.enabled }, 'workload produced; consuming');
    const worker = await startWorker(config, log);
    const consumer = await startConsumer(config, log);
    const started = Date.now();
    const deadline = started + (options.phaseTimeoutMs ?? 3_600_000);
    let stored = 0;
    while ((stored = await storedCount(pool)) < options.count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 500));
    const elapsedMs = Date.now() - started;
    await consumer.stop();
    await worker.stop();
    const [span] = await pool.query('SELECT TIMESTAMPDIFF(MICROSECOND, MIN(ingested_at), MAX(ingested_at)) AS us FROM transactions');
    const spanS = Number((span as Array<{ us: string }>)[0]?.us) / 1e6;
    return { config, stored, txPerS: stored / Math.max(spanS, 1e-3), elapsedMs };
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

async function dropPhase(config: Config): Promise<void> {
  const pool = createPool(config, 'migrate', 1);
  await pool.query('DROP DATABASE IF EXISTS ??', [config.db.name]).finally(() => pool.end());
  const admin = createKafka(config, 'fraud-eval-cleanup').admin();
  await admin.connect();
  await admin.deleteTopics({ topics: [config.kafka.topic, config.kafka.dlqTopic] }).catch(() => undefined).finally(() => admin.disconnect());
}

/**
 * `ledgerflow fraud eval`: the same labelled workload through the real pipeline twice, detection
 * off then on (throughput cost measured in the same run), then flags joined with the label side
 * file: precision, recall, F1 overall and per pattern, flag latency. Writes the JSON report.
 */
export async function evaluate(config: Config, options: EvalOptions, log: Logger) {
  fs.mkdirSync(path.dirname(path.resolve(options.out)), { recursive: true });
  const offs: PhaseResult[] = [];
  const ons: PhaseResult[] = [];
  for (let round = 1; round <= (options.rounds ?? 1); round++) {
    offs.push(await runPhase(phaseConfig(config, 'off', round, options.modelPath), options, log));
    ons.push(await runPhase(phaseConfig(config, 'on', round, options.modelPath), options, log));
  }
  const on = ons[ons.length - 1] as PhaseResult;
  const meanTxPerS = (list: PhaseResult[]) => list.reduce((sum, p) => sum + p.txPerS, 0) / list.length;
  const labelPool = createPool(on.config, 'app', 1);
  const labels = await allFraudLabels(labelPool).finally(() => labelPool.end());
  const rows = await readFlags(on.config);
  const flags = new Map(rows.map((r) => [r.tx_id, { detectors: r.detectors.split(',') }]));
  const { overall, perPattern } = evaluateFlags(labels, flags, FRAUD_PATTERNS);
  const inBatch = rows.filter((r) => Number(r.late) === 0);
  const late = rows.filter((r) => Number(r.late) === 1);
  const latencyMs = (list: typeof rows) => list.map((r) => Number(r.latency_us) / 1000).sort((a, b) => a - b);
  const detectorCounts: Record<string, number> = {};
  for (const r of rows) for (const d of r.detectors.split(',')) detectorCounts[d] = (detectorCounts[d] ?? 0) + 1;
  const model = options.modelPath ? loadFraudModel(options.modelPath) : null;
  const score = (s: Score) => ({ precision: rounded(s.precision), recall: rounded(s.recall), f1: rounded(s.f1), truePositives: s.truePositives, falsePositives: s.falsePositives, falseNegatives: s.falseNegatives });
  const report = {
    seed: options.seed,
    trainSeed: model?.trainedOn.seed ?? null,
    transactions: on.stored,
    accounts: options.accounts,
    fraudInjected: labels.size,
    fraudShare: rounded(labels.size / Math.max(1, on.stored)),
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
    throughput: {
      note: `transactions per second between the first and last stored row of a phase (consumer + worker in one process, the benchmark's pipeline settings ${JSON.stringify(PIPELINE_SETTINGS)}); phases alternate off, on`,
      detectionOffTxPerS: rounded(meanTxPerS(offs), 1),
      detectionOnTxPerS: rounded(meanTxPerS(ons), 1),
      phases: [...offs.map((p) => ['off', p] as const), ...ons.map((p) => ['on', p] as const)].map(([d, p]) => ({ detection: d, topic: p.config.kafka.topic, stored: p.stored, txPerS: rounded(p.txPerS, 1), elapsedMs: p.elapsedMs })),
    },
    detectionOverheadPct: rounded((1 - meanTxPerS(ons) / meanTxPerS(offs)) * 100, 2),
    model: model ? { components: model.components.length, trainedOn: model.trainedOn, fraudVectors: (model as TrainedModel).fraudVectors?.length ?? 0 } : null,
    complete: [...offs, ...ons].every((p) => p.stored === options.count),
    generatedAt: new Date().toISOString(),
  };
  fs.writeFileSync(path.resolve(options.out), `${JSON.stringify(report, null, 2)}\n`);
  for (const phase of [...offs, ...ons]) {
    await dropPhase(phase.config);
  }
  return report;
}
