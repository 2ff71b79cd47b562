import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { KafkaClientsResult } from './kafkaClients';
import type { NaiveResult } from './naive';
import type { PipelineResult } from './pipeline';
import type { QueriesResult } from './queries';
import { readResult, resultsDir, type ResultEnvelope } from './results';
import type { StoreResult } from './store';
import { round } from './stats';

/** The performance targets (README, bench/README.md): checked here so a rerun says plainly which ones hold on that machine. */
const TARGETS = { e2eTxPerSec: 20_000, storeLimitRatio: 0.5, naiveRatio: 20, e2eLatencyP99Ms: 1_000, accountHistoryP99Ms: 10, aggregateP99Ms: 20, rows: 10_000_000 };

function ratio(a: number | null, b: number | null): number | null {
  return a !== null && b !== null && b > 0 ? round(a / b, 2) : null;
}

function partFacts(r: ResultEnvelope<unknown> | undefined) {
  return r ? { when: r.when, durationS: round(r.durationMs / 1000, 1), loadavgBefore: r.loadavgBefore, loadavgAfter: r.loadavgAfter, settings: r.settings } : null;
}

/**
 * bench/results/summary.json from the newest result of each part (a part run alone updates its
 * own figure; the others keep theirs, each with its own date and load averages).
 */
export function writeSummary() {
  const store = readResult<StoreResult>('store-limit');
  const naive = readResult<NaiveResult>('naive');
  const pipeline = readResult<PipelineResult>('pipeline');
  const queries = readResult<QueriesResult>('queries');
  const clients = readResult<KafkaClientsResult>('kafka-clients');
  const e2e = pipeline?.result.max.txPerSec ?? null;
  const storeLimit = store?.result.txPerSec ?? null;
  const naiveRate = naive?.result.txPerSec ?? null;
  const machine = (pipeline ?? store ?? queries ?? naive ?? clients)?.machine;
  const summary = {
    when: new Date().toISOString(),
    e2eTxPerSec: e2e,
    storeLimitTxPerSec: storeLimit,
    naiveTxPerSec: naiveRate,
    e2eLatencyP99Ms: pipeline?.result.halfLoad?.latencyMs.p99 ?? null,
    e2eLatencyP50Ms: pipeline?.result.halfLoad?.latencyMs.p50 ?? null,
    e2eLatencyRateTxPerSec: pipeline?.result.halfLoad?.produceRate ?? null,
    accountHistoryP99Ms: queries?.result.accountHistoryP99Ms ?? null,
    aggregateP99Ms: queries?.result.aggregateP99Ms ?? null,
    seedAccountHistoryP99Ms: queries?.result.seedAccountHistoryP99Ms ?? null,
    seedAggregateP99Ms: queries?.result.seedAggregateP99Ms ?? null,
    rows: queries?.result.rows ?? null,
    /** Where the two cores went at max throughput: CPU ms per 1,000 committed events, per process. */
    e2eCpuMsPer1kEvents: pipeline?.result.max.cpu?.msPer1kEvents ?? null,
    e2eCoresBusy: pipeline?.result.max.cpu?.totalCores ?? null,
    ratios: { ledgerflowToStoreLimit: ratio(e2e, storeLimit), ledgerflowToNaive: ratio(e2e, naiveRate) },
    kafkaClients: clients?.result.best ?? null,
    machine: machine ? { cores: machine.cores, memory: machine.memoryBytes, cpuModel: machine.cpuModel, versions: machine.versions } : { cores: os.cpus().length, memory: os.totalmem() },
    targets: TARGETS,
    parts: { store: partFacts(store), naive: partFacts(naive), pipeline: partFacts(pipeline), queries: partFacts(queries), kafkaClients: partFacts(clients) },
  };
  fs.mkdirSync(resultsDir(), { recursive: true });
  fs.writeFileSync(path.join(resultsDir(), 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
  return summary;
}
