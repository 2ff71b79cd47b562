#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { loadConfig, settingsMarkdown, type Config } from './config';
import { LedgerflowError } from './domain/errors';
import { createLogger, resolveLogFormat, type Logger } from './telemetry/log';
import { otlpMetricsEnabled } from './telemetry/otlp';

const USAGE = `ledgerflow <command> [options]

  stack up|down|status|logs [service]   local Kafka, Temporal, MariaDB, Prometheus under .stack/ (+ otelcol, jaeger on request)
  cluster up|down|status|kubeconfig|env a single-node Kubernetes cluster here (ledgerflow cluster --help)
  image build|bases|save [options]      the container image, built with podman (ledgerflow image --help)
  migrate                               apply pending SQL migrations (migration user)
  produce [--rate R] [--count N] [--accounts A] [--seed S] [--malformed 0.01] [--fraud-rate 0.015]
          [--clock wall|simulated] [--labels FILE] [--prepare] [--client kafkajs|platformatic]
                                        the synthetic bank's traffic (docs/traffic-model.md); --accounts 0: sized for the rate
  consume                               Kafka consumer → processBatch workflows
  work                                  Temporal worker (workflows + applyBatch activity)
  api                                   REST API, HTTP ingest, live page, /metrics
  api-key create|revoke|list [options]  API credentials (ledgerflow api-key --help)
  verify [--wait-ms MS]                 compare Kafka with the database; non-zero exit on any difference
  parked list|show|replay [id]          events the store refused, isolated from their batch (ledgerflow parked --help)
  conflicts list|show [id]              transaction ids reused with other content (ledgerflow conflicts --help)
  demo [--count 20000] [--rate 1000] [--seed S] [--exit] [--report FILE]
                                        everything above, end to end, for a person on a terminal
  chaos [--seed S] [--transactions N] [--faults F] [--rate R] [--consumers C] [--workers W] [--accounts A]
        [--max-down-ms MS] [--max-minutes M] [--report FILE] [--keep] [--kafka-cluster]
        [--workload labelled|random] [--set key=value]…
                                        kill and restart processes and services, and send poison events, under
                                        load, then verify; the benchmark's pipeline settings, fraud and reviews on
                                        (--set overrides); --kafka-cluster: on the 3-broker profile, one broker
                                        killed at a time
  bench [part] [options]                benchmarks → bench/results/*.json (ledgerflow bench --help)
  fraud train --seed S [--out model.json]             fit the fraud embedding (PCA) on a labelled workload
  fraud eval --seed S [--model model.json] [--count N]  labelled workload through the pipeline: precision, recall, overhead
  config                                print every setting (markdown)

Settings come from LF_* environment variables (see docs/configuration.md).`;

type Command = (config: Config, args: string[], log: Logger) => Promise<number>;

/**
 * SIGTERM/SIGINT, listened for from the moment a long-lived command starts: a signal that arrives
 * while it is still starting up (connecting to Kafka, Temporal, the database) leads to a graceful
 * stop once it is up, instead of Node's default of dying on the spot.
 */
function stopSignal(): Promise<string> {
  return new Promise<string>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
}

/** Runs a long-lived process until the signal, then stops it gracefully. */
async function untilSignal(signal: Promise<string>, stop: () => Promise<void>, log: Logger): Promise<number> {
  log.info({ signal: await signal }, 'shutting down');
  await stop();
  return 0;
}

function numberOption(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new LedgerflowError('LF_CONFIG', `--${name} must be a non-negative number, got ${JSON.stringify(value)}`, name);
  return n;
}

const commands: Record<string, Command> = {
  stack: async (config, args, log) => (await import('./stack/cli')).stackCommand(config, args, log),
  cluster: async (config, args, log) => (await import('./cluster/cli')).clusterCommand(config, args, log),
  image: async (config, args, log) => (await import('./image/cli')).imageCommand(config, args, log),
  migrate: async (config, _args, log) => {
    const { migrate } = await import('./store/migrate');
    const report = await migrate(config, (line) => log.info(line));
    log.info(report, 'migrations done');
    return 0;
  },
  produce: async (config, args, log) => {
    const { values } = parseArgs({
      args,
      options: {
        rate: { type: 'string' }, count: { type: 'string' }, accounts: { type: 'string' }, seed: { type: 'string' }, malformed: { type: 'string' }, 'fraud-rate': { type: 'string' },
        clock: { type: 'string' }, labels: { type: 'string' }, prepare: { type: 'boolean' }, client: { type: 'string' },
      },
    });
    const share = (name: 'fraud-rate' | 'malformed') => {
      const v = numberOption(values[name], name, 0);
      if (v > 1) throw new LedgerflowError('LF_CONFIG', `--${name} is a share (0..1), got ${values[name]}`, name);
      return v;
    };
    if (values.clock !== undefined && values.clock !== 'wall' && values.clock !== 'simulated') throw new LedgerflowError('LF_CONFIG', `--clock is wall or simulated, got ${values.clock}`, 'clock');
    if (values.client !== undefined && values.client !== 'kafkajs' && values.client !== 'platformatic') throw new LedgerflowError('LF_CONFIG', `--client is kafkajs or platformatic, got ${values.client}`, 'client');
    const { startProducer } = await import('./producer');
    const producer = await startProducer(
      config,
      {
        ratePerSec: numberOption(values.rate, 'rate', 1000),
        count: numberOption(values.count, 'count', 10_000),
        accounts: Math.floor(numberOption(values.accounts, 'accounts', 0)),
        seed: numberOption(values.seed, 'seed', Date.now() % 2 ** 31),
        malformedRatio: share('malformed'),
        ...(values['fraud-rate'] === undefined ? {} : { fraudRate: share('fraud-rate') }),
        ...(values.clock === 'simulated' ? { clock: 'simulated' as const } : {}),
        ...(values.labels ? { labels: { database: config.producer.fraudLabels === 'database', file: values.labels } } : {}),
        serveMetrics: true,
        prepare: values.prepare === true,
        ...(values.client === 'platformatic' ? { client: 'platformatic' as const } : {}),
      },
      log,
    );
    process.once('SIGINT', () => void producer.stop());
    process.once('SIGTERM', () => void producer.stop());
    const report = await producer.done;
    log.info(report, 'produce done');
    return 0;
  },
  consume: async (config, _args, log) => {
    const signal = stopSignal();
    const consumer = await (await import('./consumer')).startConsumer(config, log);
    // A crash kafkajs will not recover from ends the process non-zero (the pod is restarted).
    return Promise.race([untilSignal(signal, consumer.stop, log), consumer.failed]);
  },
  work: async (config, _args, log) => {
    const signal = stopSignal();
    return untilSignal(signal, (await (await import('./worker')).startWorker(config, log)).stop, log);
  },
  api: async (config, _args, log) => {
    const signal = stopSignal();
    return untilSignal(signal, (await (await import('./api')).startApi(config, log)).stop, log);
  },
  'api-key': async (config, args) => (await import('./api/keysCli')).apiKeyCommand(config, args),
  verify: async (config, args, log) => {
    const { values } = parseArgs({ args, options: { 'wait-ms': { type: 'string' }, help: { type: 'boolean' } } });
    if (values.help) {
      process.stdout.write('ledgerflow verify [--wait-ms MS]\n  waits up to MS (60000) for the consumer group to catch up, then compares Kafka with the database;\n  exit 0 when everything matches, 1 on any difference or a record batch it cannot read (named by topic, partition, offset)\n');
      return 0;
    }
    const { verify } = await import('./verify');
    const report = await verify(config, { waitMs: numberOption(values['wait-ms'], 'wait-ms', 60_000) }, log);
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return report.ok ? 0 : 1;
  },
  parked: async (config, args, log) => (await import('./ops/parked')).parkedCommand(config, args, log),
  conflicts: async (config, args) => (await import('./ops/conflicts')).conflictsCommand(config, args),
  demo: async (config, args, log) => (await import('./demo')).demo(config, args, log),
  chaos: async (config, args, log) => {
    const opts = {
      seed: { type: 'string' }, transactions: { type: 'string' }, faults: { type: 'string' }, rate: { type: 'string' },
      consumers: { type: 'string' }, workers: { type: 'string' }, accounts: { type: 'string' }, malformed: { type: 'string' },
      'max-down-ms': { type: 'string' }, 'max-minutes': { type: 'string' }, report: { type: 'string' }, keep: { type: 'boolean' },
      'kafka-cluster': { type: 'boolean' }, workload: { type: 'string' }, set: { type: 'string', multiple: true },
    } as const;
    const { values } = parseArgs({ args, options: opts });
    const { runChaos, CHAOS_BENCH_SETTINGS } = await import('./chaos');
    const { settingsOf } = await import('./bench');
    const workload = values.workload ?? 'labelled';
    if (workload !== 'labelled' && workload !== 'random') throw new LedgerflowError('LF_CONFIG', `--workload is labelled or random, got ${JSON.stringify(workload)}`, 'workload');
    const report = await runChaos(
      config,
      {
        seed: numberOption(values.seed, 'seed', Date.now() % 2 ** 31),
        transactions: Math.max(1, numberOption(values.transactions, 'transactions', 50_000)),
        faults: numberOption(values.faults, 'faults', 8),
        rate: Math.max(1, numberOption(values.rate, 'rate', 1_000)),
        consumers: Math.max(1, numberOption(values.consumers, 'consumers', 2)),
        workers: Math.max(1, numberOption(values.workers, 'workers', 2)),
        accounts: Math.floor(numberOption(values.accounts, 'accounts', 0)),
        malformedRatio: numberOption(values.malformed, 'malformed', 0.01),
        maxDownMs: numberOption(values['max-down-ms'], 'max-down-ms', 3_000),
        maxMinutes: Math.max(1, numberOption(values['max-minutes'], 'max-minutes', 30)),
        reportFile: values.report ?? 'chaos-report.json',
        keep: values.keep === true,
        overrides: { ...CHAOS_BENCH_SETTINGS, ...settingsOf(values.set ?? []) },
        kafkaCluster: values['kafka-cluster'] === true,
        labelled: workload === 'labelled',
      },
      log,
    );
    return report.ok ? 0 : 1;
  },
  bench: async (config, args, log) => (await import('./bench')).benchCommand(config, args, log),
  fraud: async (config, args, log) => (await import('./fraud/cli')).fraudCommand(config, args, log),
  config: async () => {
    process.stdout.write(settingsMarkdown());
    return 0;
  },
};

/** The usage lines of one command (its line in USAGE and the indented lines under it). */
function commandUsage(name: string): string {
  const lines = USAGE.split('\n');
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!(lines[i] as string).startsWith(`  ${name} `) && lines[i] !== `  ${name}`) continue;
    out.push(lines[i] as string);
    while (i + 1 < lines.length && /^ {4,}/.test(lines[i + 1] as string)) out.push(lines[++i] as string);
  }
  return out.join('\n');
}

/** Commands that print their own usage for --help (they have subcommands). */
const OWN_HELP = new Set(['stack', 'bench', 'fraud', 'image', 'api-key', 'verify', 'parked', 'conflicts']);

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  const command = name ? commands[name] : undefined;
  if (!command) {
    process.stderr.write(`${USAGE}\n`);
    return name && name !== 'help' && name !== '--help' && name !== '-h' ? 2 : 0;
  }
  if ((args.includes('--help') || args.includes('-h')) && !OWN_HELP.has(name as string)) {
    process.stdout.write(`usage: ledgerflow ${commandUsage(name as string).trim()}\n`);
    return 0;
  }
  const config = loadConfig();
  const log = createLogger(config.log.level, name as string, resolveLogFormat(config.log.format));
  // Before the command's modules load: the instrumentations patch mysql2 and http as they are required.
  const role = TRACED_COMMANDS[name as string];
  const tracing = config.tracing.enabled && role ? await import('./telemetry/tracing') : undefined;
  if (role) tracing?.startTracing(config, role);
  const otlpMetrics = role && otlpMetricsEnabled(config) ? await import('./telemetry/otlp-metrics') : undefined;
  if (role) otlpMetrics?.startMetricsExport(config, role, (message) => log.warn(message));
  try {
    return await command(config, args, log);
  } finally {
    await otlpMetrics?.stopMetricsExport().catch((err: Error) => log.warn({ err: err.message }, 'exporting the last metrics failed'));
    await tracing?.stopTracing().catch((err: Error) => log.warn({ err: err.message }, 'flushing traces failed'));
  }
}

/** The pipeline processes, by the role their traces and metrics carry; stack, migrate, verify and config are not traced. */
const TRACED_COMMANDS: Record<string, string | undefined> = { produce: 'producer', consume: 'consumer', work: 'worker', api: 'api', demo: 'demo' };

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof LedgerflowError) {
      process.stderr.write(`ledgerflow: ${err.code}: ${err.message}\n`);
      process.exit(err.code === 'LF_CONFIG' ? 2 : 1);
    }
    // A wrong flag or value (node:util parseArgs): one line, not a stack trace.
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_')) {
      // node's own hint about `--` positionals does not apply to these commands: the first sentence only.
      process.stderr.write(`ledgerflow: LF_CONFIG: ${(err as Error).message.split('. To specify')[0]} (ledgerflow ${process.argv[2] ?? ''} --help)\n`);
      process.exit(2);
    }
    process.stderr.write(`ledgerflow: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
