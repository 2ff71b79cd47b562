import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../config';
import type { CompressionName } from '../kafka/codecs';
import { runPhase, type PhaseResult, type PipelineOptions } from './pipeline';
import { loadAverage, machineFacts, resultsDir } from './results';
import { round } from './stats';
import { barChart } from './svg';

export interface CodecsOptions extends Omit<PipelineOptions, 'latencyRate' | 'latencyDurationS' | 'profile' | 'audit'> {
  codecs: CompressionName[];
}

export interface CodecRow {
  codec: CompressionName;
  /** Committed events/s over the whole drain of the backlog, from the consumer's start (the pipeline's max phase). */
  txPerSec: number;
  windowS: number;
  /** CPU ms per 1,000 events of the pipeline's processes and services while draining (consumer, worker, kafka, …), and in total. */
  pipelineCpuMsPer1kEvents: Record<string, number> & { total: number };
  /** CPU ms per 1,000 events of the producer and the broker while the backlog was written (compression, broker validation). */
  produceCpuMsPer1kEvents: Record<string, number>;
  events: number;
  lost: number;
  duplicated: number;
  malformed: number;
  dlqComplete: boolean;
  verifyOk: boolean;
}

function rowOf(codec: CompressionName, r: PhaseResult): CodecRow {
  const pipeline = r.cpu?.msPer1kEvents ?? {};
  const v = r.verified;
  return {
    codec,
    txPerSec: r.txPerSec,
    windowS: r.windowS,
    pipelineCpuMsPer1kEvents: { ...pipeline, total: round(Object.values(pipeline).reduce((a, b) => a + b, 0), 2) },
    produceCpuMsPer1kEvents: r.produceCpu?.msPer1kEvents ?? {},
    events: v?.events ?? 0,
    lost: v?.lost ?? -1,
    duplicated: v?.duplicated ?? -1,
    malformed: v?.malformed ?? 0,
    dlqComplete: v?.dlqComplete ?? false,
    verifyOk: v?.ok ?? false,
  };
}

/**
 * The effect of `kafka.compression` end to end: for each codec, a fresh run whose producer writes
 * the backlog in that codec (with some malformed events), drained by the real consumer and worker
 * processes; throughput, CPU per event, and what verify finds afterwards.
 */
export async function runCodecs(config: Config, options: CodecsOptions, log: (line: string) => void): Promise<{ rows: CodecRow[] }> {
  const rows: CodecRow[] = [];
  for (const codec of options.codecs) {
    const phase = await runPhase(config, { ...options, settings: { ...options.settings, 'kafka.compression': codec }, latencyRate: 0, latencyDurationS: 0, profile: false, audit: true }, `codec-${codec}`, 0, options.durationS, log);
    rows.push(rowOf(codec, phase));
  }
  return { rows };
}

export function codecsChart(r: { rows: CodecRow[] }): string {
  return barChart('Pipeline throughput by kafka.compression (backlog drain)', 'committed events/s', r.rows.map((row) => row.codec), [{ name: 'events/s', values: r.rows.map((row) => row.txPerSec) }]);
}

function gitCommit(): string {
  try {
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8' }).trim().length > 0;
    return dirty ? `${head} (with uncommitted changes)` : head;
  } catch {
    return 'unknown';
  }
}

/** docs/reports/codecs.json: the per-codec figures with the commit and the machine they ran on. */
export async function writeCodecsReport(config: Config, options: CodecsOptions, result: { rows: CodecRow[] }, loadavgBefore: ReturnType<typeof loadAverage>): Promise<string> {
  const machine = await machineFacts(config);
  const file = path.resolve(resultsDir(), '..', '..', 'docs', 'reports', 'codecs.json');
  const report = {
    what: 'Each Kafka codec as the compression of the backlog Ledgerflow produces (kafka.compression), drained through the real consumer and worker: verify after the drain, throughput and CPU per event. Correctness with a producer that is not kafkajs (Kafka\'s Java console producer, every codec and a zstd topic) is test/integration/compression-codecs.test.ts.',
    commit: gitCommit(),
    when: new Date().toISOString(),
    machine: { cpuModel: machine.cpuModel, cores: machine.cores, memoryBytes: machine.memoryBytes, node: machine.versions.node, kafkaBroker: machine.versions.kafkaBroker },
    loadavgBefore,
    loadavgAfter: loadAverage(),
    note: loadavgBefore['1m'] > machine.cores ? `Shared, loaded machine (1-minute load average ${round(loadavgBefore['1m'], 1)} on ${machine.cores} cores): throughput and CPU figures are indicative only; rerun on a quiet machine with \`npm run bench -- codecs\`.` : 'Quiet machine.',
    settings: { backlogPerCodec: options.backlog, malformedRatio: options.malformedRatio ?? 0, durationS: options.durationS, ...options.settings },
    codecs: result.rows,
  };
  fs.writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  return path.relative(process.cwd(), file);
}
