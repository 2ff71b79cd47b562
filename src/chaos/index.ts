import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PIPELINE_SETTINGS, SERVICE_NODE_FLAGS } from '../bench';
import { BENCH_FRAUD_RATE } from '../bench/workload';
import type { Config, ConfigOverrides } from '../config';
import { parseEvent } from '../domain/transaction';
import { startProducer } from '../producer';
import {
  KAFKA_CLUSTER_NODE_IDS, kafkaClusterBrokers, killKafkaClusterNode, killService, stackLayout, stackUp, startKafkaCluster, startKafkaClusterNode, type ServiceName,
} from '../stack';
import { createPool } from '../store/pool';
import { createScratchRun } from '../stack/scratch';
import type { Logger } from '../telemetry/log';
import { verify, waitDrained, type VerifyReport } from '../verify';
import { delay, Fleet, HTTP_PORT_SETTING, type Role } from './fleet';
import { countByKind, planFaults, type FaultKind, type PlannedFault } from './plan';
import { CHAOS_MAX_AMOUNT_MINOR, PoisonInjector, type PoisonReport } from './poison';

/**
 * What the benchmark runs the pipeline with (src/bench: 12 partitions, 15,000-event batches, 2 in
 * flight, 16 activity slots and connections), plus fraud detection and reviews on: the chaos run's
 * defaults, so its evidence is about the configuration the throughput figures are about.
 */
export const CHAOS_BENCH_SETTINGS: ConfigOverrides = { ...PIPELINE_SETTINGS, 'fraud.enabled': true, 'fraud.reviewEnabled': true };

export interface ChaosOptions {
  seed: number;
  transactions: number;
  faults: number;
  /** Produce rate (events/s); the load phase lasts transactions / rate seconds. */
  rate: number;
  consumers: number;
  workers: number;
  accounts: number;
  malformedRatio: number;
  maxDownMs: number;
  /** Hard bound on the whole run: it stops by itself and reports a failure when exceeded. */
  maxMinutes: number;
  reportFile: string;
  /** Keep the run's topic and database for inspection (dropped by default). */
  keep: boolean;
  /** Settings for the run's processes on top of the environment's (tests shorten timeouts). */
  overrides?: ConfigOverrides;
  /**
   * Run on the 3-broker KRaft profile (`stack kafka-cluster`, RF 3, min.insync.replicas 2, at
   * stack.kafkaClusterBasePort) instead of the single broker; `kafka-kill` then SIGKILLs one
   * broker at a time.
   */
  kafkaCluster?: boolean;
  /** The benchmark's labelled workload (simulated event time, 1.5 % injected fraud) instead of the producer's random traffic. */
  labelled?: boolean;
  /** Node flags of the consumer and worker processes (default: the benchmark's and the image's). */
  nodeArgs?: readonly string[];
}

export interface InjectedFault extends PlannedFault {
  startedAtMs: number;
  recoveredAfterMs: number;
  /** Exit code of a SIGTERMed process: a graceful drain exits 0. */
  exitCode?: number | null;
  /** Whether the producer was still sending when the fault hit (later ones hit the drain). */
  duringLoad: boolean;
  error?: string;
  /** The broker a `kafka-kill` on the 3-broker profile took down. */
  broker?: number;
}

export interface ChaosReport {
  seed: number;
  /** Events in the topic: every send, plus copies a producer resent after a broker failure. */
  transactions: number;
  /** Events the producer sent and saw acknowledged (each once). */
  sent: number;
  valid: number;
  malformed: number;
  faults: number;
  faultsByKind: Record<FaultKind, number>;
  faultLog: InjectedFault[];
  faultsDuringLoad: number;
  /** Processes that died without being killed by the run (the supervisor restarted them). */
  crashRestarts: number;
  /** SIGTERMed processes that did not exit 0. */
  uncleanGracefulExits: number;
  acknowledged: number;
  lost: number;
  duplicated: number;
  balanceMismatches: number;
  contentMismatches: number;
  dlq: number;
  dlqMissing: number;
  wallTimeMs: number;
  loadTimeMs: number;
  drainTimeMs: number;
  ok: boolean;
  error?: string;
  /** Poison events: overflowing credits rejected, refused events parked then replayed, all accounted for exactly. */
  poison?: PoisonReport;
  /** Review workflows opened (fraud.reviewEnabled): transactions held for a human decision. */
  reviewsOpened: number;
  settings: Omit<ChaosOptions, 'reportFile'> & {
    partitions: number; batchMaxEvents: number; batchesInFlight: number; sessionTimeoutMs: number; maxAmountMinor: string;
    fraudEnabled: boolean; reviewEnabled: boolean; kafkaProfile: string; replicationFactor: number;
  };
  /** The code the run ran: commit and whether the tree had uncommitted changes. */
  git: { commit: string; clean: boolean };
  machine: { cpuModel: string; cores: number; memoryGiB: number; node: string; platform: string };
  when: string;
  verify?: VerifyReport;
}

const SERVICE_OF: Partial<Record<FaultKind, ServiceName>> = { 'temporal-kill': 'temporal', 'mariadb-kill': 'mariadb', 'kafka-kill': 'kafka' };
const ROLE_OF: Partial<Record<FaultKind, [Role, 'SIGKILL' | 'SIGTERM']>> = {
  'consumer-kill': ['consume', 'SIGKILL'],
  'consumer-term': ['consume', 'SIGTERM'],
  'worker-kill': ['work', 'SIGKILL'],
  'worker-term': ['work', 'SIGTERM'],
};

/**
 * Runs the real pipeline (consumer and worker processes, Temporal, MariaDB, Kafka) under a steady
 * load and injects the seed's faults, then drains and checks every record with `verify` plus the
 * ids the producer saw acknowledged. Bounded in count and time; loopback only.
 */
export async function runChaos(config: Config, options: ChaosOptions, log: Logger): Promise<ChaosReport> {
  const t0 = Date.now();
  const loadMs = Math.max(1_000, Math.round((options.transactions / Math.max(1, options.rate)) * 1000));
  const plan = planFaults({ seed: options.seed, faults: options.faults, loadMs, maxDownMs: options.maxDownMs });
  const out = (line: string) => process.stdout.write(`${line}\n`);
  const git = gitState();
  out(`chaos: seed ${options.seed}; ${options.transactions} transactions at ${options.rate}/s on ${options.kafkaCluster ? 'the 3-broker profile' : 'one broker'}; commit ${git.commit}${git.clean ? '' : ' (uncommitted changes)'}`);
  out(`chaos: ${plan.length} faults: ${plan.map((f) => `${f.kind}@${(f.atMs / 1000).toFixed(1)}s`).join(', ')}`);

  const services: ServiceName[] = options.kafkaCluster ? ['temporal', 'mariadb'] : ['kafka', 'temporal', 'mariadb'];
  await stackUp(config, { services, log: (line) => log.info(line) });
  const cluster: ConfigOverrides = {};
  if (options.kafkaCluster) {
    await startKafkaCluster(config, { log: (line) => log.info(line) });
    Object.assign(cluster, { 'kafka.brokers': kafkaClusterBrokers(config), 'kafka.replicationFactor': 3 });
  }
  const poisoned = plan.some((f) => f.kind === 'poison');
  const run = await createScratchRun(
    'chaos',
    {
      'log.level': 'info',
      // Several workers share the machine: their Temporal SDK metrics endpoints would collide on one port.
      'worker.sdkMetricsPort': 0,
      // Overflowing credits need amounts this large (a value the config accepts; decision 020).
      ...(poisoned ? { 'rules.maxAmountMinor': CHAOS_MAX_AMOUNT_MINOR } : {}),
      ...options.overrides,
      ...cluster,
    },
    { services },
  );
  const logDir = path.join(stackLayout(config).logs, `chaos-${run.runId}`);
  out(`chaos: run ${run.runId}; process logs in ${logDir}`);
  const fleet = new Fleet({ env: (role, port) => run.childEnv({ [HTTP_PORT_SETTING[role]]: port }), logDir, log, nodeArgs: options.nodeArgs ?? SERVICE_NODE_FLAGS });
  const poison = new PoisonInjector(run.config, run.runId, () => run.childEnv(), log);
  let poisonReport: PoisonReport | undefined;
  let reviewsOpened = 0;
  const acknowledged: string[] = [];
  const faultLog: InjectedFault[] = [];
  let error: string | undefined;
  let verifyReport: VerifyReport | undefined;
  let loadTimeMs = 0;
  let sent = 0;
  let drainTimeMs = 0;
  let stopProducer: (() => Promise<void>) | undefined;
  const deadline = t0 + options.maxMinutes * 60_000;
  let watchdog: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    watchdog = setTimeout(() => reject(new Error(`chaos run exceeded --max-minutes ${options.maxMinutes}`)), Math.max(0, deadline - Date.now()));
  });
  timedOut.catch(() => undefined);

  try {
    await Promise.race([timedOut, (async () => {
      if (poisoned) await poison.install();
      await fleet.scale('work', options.workers);
      await fleet.scale('consume', options.consumers);
      const loadStart = Date.now();
      const producer = await startProducer(
        run.config,
        {
          ratePerSec: options.rate, count: options.transactions, accounts: options.accounts, seed: options.seed,
          malformedRatio: options.malformedRatio,
          ...(options.labelled ? { labelled: { fraudRate: BENCH_FRAUD_RATE } } : {}),
          onAcknowledged: (messages) => {
            for (const m of messages) {
              const parsed = parseEvent(m.value);
              if (parsed.ok) acknowledged.push(parsed.event.id);
            }
          },
        },
        log,
      );
      stopProducer = producer.stop;
      let producing = true;
      void producer.done.finally(() => {
        producing = false;
        loadTimeMs = Date.now() - loadStart;
      }).catch(() => undefined);
      for (const fault of plan) {
        const wait = loadStart + fault.atMs - Date.now();
        if (wait > 0) await delay(wait);
        const injected = await inject(config, fleet, fault, loadStart, producing, log, {
          cluster: options.kafkaCluster === true,
          poison: () => poison.inject((ids) => acknowledged.push(...ids)),
        });
        faultLog.push(injected);
        out(`chaos: ${injected.kind} at ${(injected.startedAtMs / 1000).toFixed(1)} s, down ${injected.downMs} ms, recovered after ${(injected.recoveredAfterMs / 1000).toFixed(1)} s${injected.exitCode !== undefined ? `, exit ${injected.exitCode}` : ''}${injected.error ? `, ERROR ${injected.error}` : ''}`);
      }
      const produced = await producer.done;
      sent = produced.sent;
      out(`chaos: load done (${produced.sent} sent in ${(loadTimeMs / 1000).toFixed(1)} s); draining`);
      const drainStart = Date.now();
      const waitMs = () => Math.max(60_000, deadline - Date.now() - 60_000);
      if (poisoned) {
        // The refused events are parked once everything drained; the cause goes, the operator replays them.
        const lag = await waitDrained(run.config, waitMs(), log);
        if (lag > 0) throw new Error(`${lag} events still not committed before the parked events' replay`);
        await poison.replayParked();
        out(`chaos: drained; poison trigger removed, parked events replayed through \`ledgerflow parked replay\``);
      }
      verifyReport = await verify(run.config, { waitMs: waitMs(), acknowledged }, log);
      drainTimeMs = Date.now() - drainStart;
      if (poisoned) poisonReport = await poison.check();
      reviewsOpened = await countReviews(run.config);
    })()]);
  } catch (err) {
    error = (err as Error).message;
    log.error({ err: error }, 'chaos run failed');
  } finally {
    clearTimeout(watchdog);
    await stopProducer?.().catch(() => undefined);
    await fleet.stopAll().catch((err: Error) => log.warn({ err: err.message }, 'fleet stop failed'));
    if (poisoned) await poison.remove().catch(() => undefined);
    if (!options.keep && !error) await run.dispose().catch((err: Error) => log.warn({ err: err.message }, 'cleanup failed'));
  }

  const v = verifyReport;
  const faultsByKind = countByKind(faultLog.map((f) => f.kind));
  // Every SIGTERM of the run (faults and the final stop) must end in a clean drain, exit 0.
  const uncleanGracefulExits = fleet.gracefulExits.filter((e) => e.code !== 0).length;
  const report: ChaosReport = {
    seed: options.seed,
    transactions: v?.produced ?? acknowledged.length,
    sent,
    valid: v?.valid ?? 0,
    malformed: v?.malformed ?? 0,
    faults: faultLog.filter((f) => !f.error).length,
    faultsByKind,
    faultLog,
    faultsDuringLoad: faultLog.filter((f) => f.duringLoad && !f.error).length,
    crashRestarts: fleet.crashes.length,
    uncleanGracefulExits,
    acknowledged: acknowledged.length,
    lost: v ? v.missing + v.acknowledgedNotInKafka : acknowledged.length,
    duplicated: v?.duplicated ?? 0,
    balanceMismatches: v?.balanceMismatches ?? 0,
    contentMismatches: v?.contentMismatches ?? 0,
    dlq: v?.dlqFound ?? 0,
    dlqMissing: v?.dlqMissing ?? 0,
    wallTimeMs: Date.now() - t0,
    loadTimeMs,
    drainTimeMs,
    ok: false,
    ...(error ? { error } : {}),
    ...(poisonReport ? { poison: poisonReport } : {}),
    reviewsOpened,
    settings: {
      seed: options.seed, transactions: options.transactions, faults: options.faults, rate: options.rate, consumers: options.consumers,
      workers: options.workers, accounts: options.accounts, malformedRatio: options.malformedRatio, maxDownMs: options.maxDownMs,
      maxMinutes: options.maxMinutes, keep: options.keep, overrides: options.overrides ?? {}, kafkaCluster: options.kafkaCluster === true,
      labelled: options.labelled === true, nodeArgs: options.nodeArgs ?? SERVICE_NODE_FLAGS, partitions: run.config.kafka.partitions,
      batchMaxEvents: run.config.consumer.batchMaxEvents, batchesInFlight: run.config.consumer.batchesInFlight,
      sessionTimeoutMs: run.config.consumer.sessionTimeoutMs, maxAmountMinor: run.config.rules.maxAmountMinor, fraudEnabled: run.config.fraud.enabled,
      reviewEnabled: run.config.fraud.reviewEnabled, kafkaProfile: options.kafkaCluster ? '3-broker KRaft (stack kafka-cluster), min.insync.replicas 2' : 'single broker',
      replicationFactor: run.config.kafka.replicationFactor,
    },
    git,
    machine: {
      cpuModel: os.cpus()[0]?.model ?? 'unknown', cores: os.cpus().length, memoryGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version,
      platform: `${os.platform()} ${os.release()}`,
    },
    when: new Date().toISOString(),
    ...(v ? { verify: v } : {}),
  };
  report.ok = !error && v !== undefined && v.ok && report.lost === 0 && report.duplicated === 0 && report.balanceMismatches === 0
    && report.uncleanGracefulExits === 0 && faultLog.every((f) => !f.error) && (!poisoned || poisonReport?.ok === true);
  fs.mkdirSync(path.dirname(path.resolve(options.reportFile)), { recursive: true });
  fs.writeFileSync(options.reportFile, `${JSON.stringify(report, null, 2)}\n`);
  out(summary(report, options));
  return report;
}

async function inject(
  config: Config, fleet: Fleet, fault: PlannedFault, loadStart: number, duringLoad: boolean, log: Logger,
  how: { cluster: boolean; poison: () => Promise<void> },
): Promise<InjectedFault> {
  const startedAt = Date.now();
  const base = { ...fault, startedAtMs: startedAt - loadStart, duringLoad };
  try {
    if (fault.kind === 'poison') {
      await how.poison();
      return { ...base, downMs: 0, recoveredAfterMs: Date.now() - startedAt };
    }
    if (fault.kind === 'kafka-kill' && how.cluster) {
      // One broker at a time: with RF 3 and min.insync.replicas 2 the other two keep taking writes.
      const broker = KAFKA_CLUSTER_NODE_IDS[fault.target % KAFKA_CLUSTER_NODE_IDS.length] as number;
      await killKafkaClusterNode(config, broker, 'SIGKILL', { log: (line) => log.info(line) });
      await delay(fault.downMs);
      await startKafkaClusterNode(config, broker, { log: (line) => log.info(line) });
      return { ...base, broker, recoveredAfterMs: Date.now() - startedAt };
    }
    const service = SERVICE_OF[fault.kind];
    if (service) {
      await killService(config, service, 'SIGKILL');
      await delay(fault.downMs);
      await stackUp(config, { services: [service], log: (line) => log.info(line) });
      return { ...base, recoveredAfterMs: Date.now() - startedAt };
    }
    const [role, signal] = ROLE_OF[fault.kind] as [Role, 'SIGKILL' | 'SIGTERM'];
    const exit = await fleet.kill(role, fault.target, signal, fault.downMs);
    return { ...base, recoveredAfterMs: Date.now() - startedAt, ...(signal === 'SIGTERM' ? { exitCode: exit.code } : {}) };
  } catch (err) {
    return { ...base, recoveredAfterMs: Date.now() - startedAt, error: (err as Error).message };
  }
}

function summary(r: ChaosReport, o: ChaosOptions): string {
  const kinds = Object.entries(r.faultsByKind).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(', ');
  return [
    `chaos: seed ${r.seed}: ${r.sent} sent, ${r.transactions} events in the topic (${r.valid} valid ids, ${r.malformed} malformed), ${r.acknowledged} acknowledged valid sends`,
    `chaos: ${r.faults} faults (${kinds}), ${r.faultsDuringLoad} while producing; ${r.crashRestarts} crash restarts; ${r.uncleanGracefulExits} unclean graceful exits`,
    `chaos: lost ${r.lost}, duplicated ${r.duplicated}, balance mismatches ${r.balanceMismatches}, content mismatches ${r.contentMismatches}, DLQ ${r.dlq} (missing ${r.dlqMissing}), reviews opened ${r.reviewsOpened}`,
    ...(r.poison ? [`chaos: poison: ${r.poison.injections} injections; overflow credits ${r.poison.overflowCredits}: ${r.poison.overflowApplied}/${r.poison.overflowAppliedExpected} applied, ${r.poison.overflowRejected}/${r.poison.overflowRejectedExpected} rejected balance_overflow; refused ${r.poison.refused}: parked ${r.poison.parkedBeforeReplay} (+${r.poison.unexpectedParked} unexpected), replayed ${r.poison.replayed}, stored once ${r.poison.storedAfterReplay}; balance mismatches ${r.poison.balanceMismatches}${r.poison.ok ? '' : ` FAILED ${r.poison.examples.join('; ')}`}`] : []),
    `chaos: wall ${(r.wallTimeMs / 1000).toFixed(1)} s (load ${(r.loadTimeMs / 1000).toFixed(1)} s, drain ${(r.drainTimeMs / 1000).toFixed(1)} s)${r.error ? `; ERROR ${r.error}` : ''}`,
    `chaos: ${r.ok ? 'OK' : 'FAILED'}; report ${o.reportFile}; reproduce: ledgerflow chaos --seed ${r.seed} --transactions ${o.transactions} --faults ${o.faults} --rate ${o.rate} --consumers ${o.consumers} --workers ${o.workers} --accounts ${o.accounts} --max-down-ms ${o.maxDownMs}${o.kafkaCluster ? ' --kafka-cluster' : ''}${o.labelled ? '' : ' --workload random'}${setFlags(o.overrides ?? {})}`,
  ].join('\n');
}

/** The settings a run had beyond the CLI's defaults, as the --set flags that give them again. */
function setFlags(overrides: ConfigOverrides): string {
  return Object.entries(overrides).filter(([k, v]) => CHAOS_BENCH_SETTINGS[k] !== v).map(([k, v]) => ` --set ${k}=${String(v)}`).join('');
}

function gitState(): { commit: string; clean: boolean } {
  const git = (args: string[]) => execFileSync('git', args, { cwd: path.resolve(__dirname, '..', '..'), encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  try {
    return { commit: git(['rev-parse', 'HEAD']), clean: git(['status', '--porcelain', '--untracked-files=no']) === '' };
  } catch {
    return { commit: 'unknown', clean: false };
  }
}

async function countReviews(config: Config): Promise<number> {
  const pool = createPool(config, 'app', 1);
  try {
    const [[row]] = (await pool.query('SELECT COUNT(*) AS n FROM reviews')) as unknown as [[{ n: number }]];
    return Number(row.n);
  } finally {
    await pool.end();
  }
}
