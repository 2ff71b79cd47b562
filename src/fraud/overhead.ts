import os from 'node:os';
import type { Config } from '../config';
import { PIPELINE_SETTINGS } from '../bench';
import { cpuBetween, sampleCpu, stackPids, type CpuSample } from '../bench/cpu';
import { spawnLedgerflow, waitReady, type Child } from '../bench/processes';
import { createKafka } from '../kafka/client';
import { startProducer } from '../producer';
import { SIMULATED_RATE_PER_S } from '../producer/traffic';
import { createScratchRun } from '../stack/scratch';
import { freePort } from '../stack/process';
import { insertFraudVectors } from '../store/fraud';
import { createPool } from '../store/pool';
import type { Logger } from '../telemetry/log';
import { committedOffsets, highWatermarks } from '../verify/kafkaRead';
import { loadFraudModel } from '../worker/fraud';
import type { TrainedModel } from './train';

/**
 * What fraud detection costs, as CPU per committed event: the same steady load through the
 * pipeline's own processes (consumer, worker, database), in phases with detection off and on,
 * alternating, each at least a minute long. CPU time per event does not depend on how busy the
 * shared machine happens to be the way throughput does (a throughput phase of a few seconds
 * swung by more than the cost being measured), and alternating spreads the box's drift over both.
 */
export interface OverheadOptions {
  seed: number;
  accounts: number;
  fraudRate: number;
  modelPath: string;
  /** Events per second the producer sends through every phase. */
  ratePerSec: number;
  /** Measured seconds of one phase (after its warm-up). */
  phaseS: number;
  /** Off/on pairs. */
  rounds: number;
}

/** CPU of one phase, per process and in all, in milliseconds per 1,000 committed events. */
export interface CpuPhase {
  detection: 'off' | 'on';
  round: number;
  committed: number;
  windowS: number;
  msPer1kEvents: Record<string, number>;
  totalMsPer1kEvents: number;
  /** Cores the measured processes used on average. */
  cores: number;
  /** The whole box's 1-minute load average at the phase's end: how shared the cores were. */
  loadAverage1m: number;
  /** Events not yet committed at the phase's end: well above one second of traffic, the pipeline fell behind and batched more cheaply. */
  lagAtEnd: number;
}

/**
 * Events per second through the phases by default: at 3,000/s a detection-on phase on the shared
 * 2-core box fell behind (a growing lag is applied in larger, cheaper batches), so the steady
 * state both sides must be measured in is set below that.
 */
export const DEFAULT_CPU_RATE_PER_SEC = 2_000;

/**
 * Which phase of a round comes first: off then on, then on then off (ABBA). The database grows and
 * the box's load drifts through the run; a fixed order would charge all of that drift to one side.
 */
export function phaseOrder(round: number): ReadonlyArray<'off' | 'on'> {
  return round % 2 === 1 ? ['off', 'on'] : ['on', 'off'];
}

export interface OverheadResult {
  method: string;
  ratePerSec: number;
  phaseS: number;
  phases: CpuPhase[];
  /** Per round: (on - off) / off of the total CPU per event, percent. */
  roundOverheadPct: number[];
  overheadPct: number;
  /** Largest minus smallest round overhead, percentage points. */
  spreadPct: number;
}

/**
 * Warm-up of a phase: until the new worker has caught up with what waited while it started, and
 * stayed caught up (lag under a second of traffic) for a while. A backlog would be applied in
 * larger, cheaper batches and flatter the phase.
 */
const WARMUP_MIN_MS = 15_000;
const WARMUP_MAX_MS = 120_000;
const CAUGHT_UP_SAMPLES = 5;
const MEASURED = ['consumer', 'worker', 'mariadb'] as const;

async function committedTotal(kafka: ReturnType<typeof createKafka>, config: Config): Promise<{ committed: number; lag: number }> {
  const [highs, committed] = await Promise.all([highWatermarks(kafka, config.kafka.topic), committedOffsets(kafka, config.kafka.groupId, config.kafka.topic)]);
  let done = 0n;
  let lag = 0n;
  for (const [partition, high] of highs) {
    const offset = committed.get(partition) ?? -1n;
    const c = offset < 0n ? 0n : offset;
    done += c;
    lag += high - c;
  }
  return { committed: Number(done), lag: Number(lag) };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const rounded = (x: number, digits = 2) => Number(x.toFixed(digits));

export async function measureOverhead(base: Config, options: OverheadOptions, log: Logger): Promise<OverheadResult> {
  const workerPort = await freePort();
  const consumerPort = await freePort();
  const run = await createScratchRun(
    'fraud-cpu',
    { ...PIPELINE_SETTINGS, 'fraud.reviewEnabled': false, 'fraud.modelPath': options.modelPath, 'consumer.httpPort': consumerPort, 'worker.httpPort': workerPort, 'worker.sdkMetricsPort': 0, 'log.level': 'warn', 'log.format': 'json' },
    { topicPrefix: 'fraud-cpu-', dbPrefix: 'ledgerflow_fraudcpu_' },
  );
  const { config } = run;
  const kafka = createKafka(config, 'fraud-cpu', log);
  const children: Child[] = [];
  let producer: Awaited<ReturnType<typeof startProducer>> | undefined;
  try {
    const model = options.modelPath ? (loadFraudModel(options.modelPath) as TrainedModel) : null;
    if (model?.fraudVectors?.length) {
      const pool = createPool(config, 'app', 1);
      await insertFraudVectors(pool, model.fraudVectors, 'training').finally(() => pool.end());
    }
    const consumer = spawnLedgerflow('consumer', ['consume'], run.childEnv(), [], `fraud-cpu-${run.runId}-consumer`);
    children.push(consumer);
    await waitReady(`http://127.0.0.1:${consumerPort}/readyz`, consumer, 120_000);
    // The accuracy run's traffic (the model's own pace, decision 024), sent at the phase's rate.
    producer = await startProducer(config, { ratePerSec: options.ratePerSec, modelRatePerSec: SIMULATED_RATE_PER_S, count: 0, accounts: options.accounts, seed: options.seed, malformedRatio: 0, fraudRate: options.fraudRate, clock: 'simulated', labels: { database: false } }, log);
    const phases: CpuPhase[] = [];
    for (let round = 1; round <= options.rounds; round++) {
      for (const detection of phaseOrder(round)) {
        const worker = spawnLedgerflow('worker', ['work'], run.childEnv({ 'fraud.enabled': detection === 'on' }), [], `fraud-cpu-${run.runId}-worker-${detection}${round}`);
        children.push(worker);
        await waitReady(`http://127.0.0.1:${workerPort}/readyz`, worker, 120_000);
        const warmStart = Date.now();
        for (let caughtUp = 0; ; ) {
          const { lag } = await committedTotal(kafka, config);
          caughtUp = lag <= options.ratePerSec ? caughtUp + 1 : 0;
          const waited = Date.now() - warmStart;
          if ((waited >= WARMUP_MIN_MS && caughtUp >= CAUGHT_UP_SAMPLES) || waited >= WARMUP_MAX_MS) break;
          await sleep(1_000);
        }
        const pids = { ...pick(stackPids(config), 'mariadb'), consumer: consumer.process.pid as number, worker: worker.process.pid as number };
        const before: CpuSample = sampleCpu(pids);
        const start = await committedTotal(kafka, config);
        await sleep(options.phaseS * 1000);
        const after: CpuSample = sampleCpu(pids);
        const end = await committedTotal(kafka, config);
        const committed = end.committed - start.committed;
        const use = cpuBetween(before, after, committed);
        const total = MEASURED.reduce((s, p) => s + (use.msPer1kEvents[p] ?? 0), 0);
        phases.push({ detection, round, committed, windowS: use.windowS, msPer1kEvents: use.msPer1kEvents, totalMsPer1kEvents: rounded(total), cores: use.totalCores, loadAverage1m: rounded(os.loadavg()[0] ?? 0), lagAtEnd: end.lag });
        log.info({ round, detection, committed, msPer1kEvents: use.msPer1kEvents, lagAtEnd: end.lag }, 'fraud eval: CPU phase done');
        await worker.stop();
      }
    }
    const roundOverheadPct = Array.from({ length: options.rounds }, (_, i) => {
      const off = phases.find((p) => p.round === i + 1 && p.detection === 'off') as CpuPhase;
      const on = phases.find((p) => p.round === i + 1 && p.detection === 'on') as CpuPhase;
      return rounded((on.totalMsPer1kEvents / off.totalMsPer1kEvents - 1) * 100);
    });
    return {
      method: `CPU time (user + system, /proc) of the consumer, worker and database processes per committed event, at a steady ${options.ratePerSec} events/s of the simulated-clock workload; detection off and on in alternating phases (off then on in odd rounds, on then off in even ones), each measured for ${options.phaseS} s after its worker caught up; the benchmark's pipeline settings ${JSON.stringify(PIPELINE_SETTINGS)}`,
      ratePerSec: options.ratePerSec,
      phaseS: options.phaseS,
      phases,
      roundOverheadPct,
      overheadPct: rounded(roundOverheadPct.reduce((s, x) => s + x, 0) / roundOverheadPct.length),
      spreadPct: rounded(Math.max(...roundOverheadPct) - Math.min(...roundOverheadPct)),
    };
  } finally {
    await producer?.stop();
    for (const child of children.reverse()) await child.stop();
    await run.dispose();
  }
}

function pick(pids: Record<string, number>, name: string): Record<string, number> {
  return pids[name] === undefined ? {} : { [name]: pids[name] as number };
}
