import { parseArgs } from 'node:util';
import type { Config, ConfigOverrides } from '../config';
import { LedgerflowError } from '../domain/errors';
import type { Logger } from '../telemetry/log';
import { COMPRESSION_NAMES, type CompressionName } from '../kafka/codecs';
import { codecsChart, runCodecs, writeCodecsReport } from './codecs';
import { kafkaClientsChart, runKafkaClients } from './kafkaClients';
import { naiveChart, runNaive } from './naive';
import { pipelineChart, runPipeline } from './pipeline';
import { queriesChart, runQueries } from './queries';
import { loadAverage, recordPart } from './results';
import { runStoreLimit, storeChart } from './store';
import { writeSummary } from './summary';
import { isWorkload, WORKLOADS } from './workload';

export const BENCH_USAGE = `ledgerflow bench [all | store naive pipeline queries kafka-clients | codecs | summary] [options]
  codecs               optional, not in all: the pipeline's backlog drain once per kafka.compression codec,
                       with verify after each; also writes docs/reports/codecs.json
  --codecs a,b         codecs: which (none,gzip,snappy,lz4,zstd)
  --malformed R        codecs: share of malformed events in the backlog (0.01; the random workload, its default)
  --rows N             store: rows bulk-loaded (500000); queries: rows in the table (10000000)
  --duration S         pipeline: measured window at max throughput (60); naive: run time (20);
                       codecs: cap on each drain (1800)
  --backlog N          pipeline: events produced before the consumer starts (4000000: enough for 70 s at ~57k tx/s);
                       codecs: per codec (500000)
  --latency-rate R     pipeline: rate of the latency phase (0 = half the measured max)
  --workers N          pipeline: worker processes (1)
  --set key=value      pipeline: a setting for consumer and workers, e.g. --set consumer.lingerMs=250
                       (defaults: kafka.partitions=12 consumer.batchMaxEvents=15000 consumer.batchesInFlight=2
                        worker.maxConcurrentActivities=16 db.poolSize=16)
  --node-flags "..."   pipeline: flags for the consumer and worker node processes (default: the image's,
                       --max-semi-space-size=64; --node-flags= runs without)
  --workload W         store, naive, pipeline: labelled (default: simulated event time, 1.5 % injected fraud)
                       or random (the producer's default traffic; its backlog makes fraud detection flag most events)
  --profile            pipeline: --cpu-prof the consumer and workers, summarise where the time goes
  --messages N         kafka-clients: messages per client and round (200000)
  --samples N          queries: timings per query (1000)
  --keep               queries: keep both databases afterwards (they are printed)
  --reuse A,B          queries: time the databases a --keep run left instead of loading again`;

const PARTS = ['store', 'naive', 'pipeline', 'queries', 'kafka-clients'] as const;
/** Parts that run only when named (not in `all`). */
const OPTIONAL_PARTS = ['codecs'] as const;

/**
 * Pipeline settings the benchmark runs with unless --set says otherwise: 12 partitions as the Helm
 * chart deploys, 15,000-event batches (Temporal's cost is per workflow, and a batch's per-account
 * rows grow slower than its events, so bigger batches are cheaper per event: 21,930 against 17,732
 * tx/s for 10,000 and 5,000; with a 4 M backlog, 30 s windows, 36,486 · 38,181 · 38,502 tx/s for
 * 10,000 · 15,000 · 20,000. Packed, a 15,000-event batch of the benchmark's traffic is ~0.46 MB,
 * under the 0.5 MB above which Temporal logs a warning per workflow; 20,000 packs to ~0.65 MB.
 * Under light load batches stay as small as what arrived), 2 batches in
 * flight (each covering 6 partitions: 3 gave the same throughput, 21,549 tx/s, and the same
 * latency at half load within noise), and enough activity slots and connections.
 */
/**
 * Node flags of the consumer and worker processes unless --node-flags says otherwise: the image's
 * (the Dockerfile's ENTRYPOINT carries the same, a unit test holds them equal). A 64 MB young
 * generation: at 17,000 tx/s with the producer running, p99 857–1,039 ms against 970–1,231 ms
 * without, four runs each, alternating (bench/README.md).
 */
export const SERVICE_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=64'];

export const PIPELINE_SETTINGS: ConfigOverrides = {
  'kafka.partitions': 12,
  'consumer.partitionsConcurrently': 12,
  'consumer.batchesInFlight': 2,
  'consumer.batchMaxEvents': 15000,
  'worker.maxConcurrentActivities': 16,
  'db.poolSize': 16,
};

function positive(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new LedgerflowError('LF_CONFIG', `--${name} must be a non-negative number, got ${JSON.stringify(value)}`, name);
  return n;
}

function settingsOf(pairs: ReadonlyArray<string>): ConfigOverrides {
  const out: ConfigOverrides = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new LedgerflowError('LF_CONFIG', `--set takes key=value, got ${JSON.stringify(pair)}`, 'set');
    out[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return out;
}

/** `ledgerflow bench …`: runs the parts, writes bench/results/<part>.json (+ .svg) and summary.json. */
export async function benchCommand(config: Config, args: string[], log: Logger): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      rows: { type: 'string' },
      duration: { type: 'string' },
      backlog: { type: 'string' },
      'latency-rate': { type: 'string' },
      'latency-duration': { type: 'string' },
      workers: { type: 'string' },
      set: { type: 'string', multiple: true },
      'node-flags': { type: 'string' },
      profile: { type: 'boolean' },
      messages: { type: 'string' },
      rounds: { type: 'string' },
      samples: { type: 'string' },
      accounts: { type: 'string' },
      seed: { type: 'string' },
      workload: { type: 'string' },
      help: { type: 'boolean' },
      keep: { type: 'boolean' },
      reuse: { type: 'string' },
      codecs: { type: 'string' },
      malformed: { type: 'string' },
    },
  });
  const parts = positionals.length > 0 ? positionals : ['all'];
  if (values.help || parts.includes('help')) {
    process.stdout.write(`${BENCH_USAGE}\n`);
    return 0;
  }
  if (parts.some((p) => p !== 'all' && p !== 'summary' && ![...PARTS, ...OPTIONAL_PARTS].includes(p as never))) {
    process.stderr.write(`${BENCH_USAGE}\n`);
    return 2;
  }
  const say = (line: string) => log.info(line);
  const accounts = positive(values.accounts, 'accounts', 10_000);
  const seed = positive(values.seed, 'seed', 42);
  const workload = values.workload ?? 'labelled';
  if (!isWorkload(workload)) throw new LedgerflowError('LF_CONFIG', `--workload must be one of ${WORKLOADS.join(', ')}, got ${JSON.stringify(workload)}`, 'workload');
  const wants = (name: (typeof PARTS)[number]) => parts.includes('all') || parts.includes(name);
  if (wants('store')) {
    const options = { rows: positive(values.rows, 'rows', 500_000), chunkRows: 50_000, accounts, seed, workload };
    await recordPart(config, 'store-limit', options, () => runStoreLimit(config, options, say), storeChart, say);
  }
  if (wants('naive')) {
    const options = { durationS: positive(values.duration, 'duration', 20), inFlight: 64, accounts, seed, workload };
    await recordPart(config, 'naive', options, () => runNaive(config, options, say), naiveChart, say);
  }
  if (wants('pipeline')) {
    const options = {
      durationS: positive(values.duration, 'duration', 60),
      warmupS: 10,
      backlog: positive(values.backlog, 'backlog', 4_000_000),
      latencyRate: positive(values['latency-rate'], 'latency-rate', 0),
      latencyDurationS: positive(values['latency-duration'], 'latency-duration', 30),
      workers: Math.max(1, positive(values.workers, 'workers', 1)),
      accounts,
      seed,
      workload,
      settings: { ...PIPELINE_SETTINGS, ...settingsOf(values.set ?? []) },
      nodeFlags: values['node-flags'] === undefined ? [...SERVICE_NODE_FLAGS] : values['node-flags'].split(' ').filter((f) => f.length > 0),
      profile: values.profile === true,
    };
    await recordPart(config, 'pipeline', options, () => runPipeline(config, options, say), pipelineChart, say);
  }
  if (wants('queries')) {
    const reuse = values.reuse?.split(',');
    if (reuse && reuse.length !== 2) throw new LedgerflowError('LF_CONFIG', '--reuse takes two database names: ledgerflow,seed', 'reuse');
    const options = {
      rows: positive(values.rows, 'rows', 10_000_000),
      accounts,
      seed,
      days: 30,
      // 1,000: a p99 of 200 samples is their second-slowest, one stray sample moves it (history p99
      // 5.4, 5.6, 8.4 and 14.6 ms in four full runs with p50 ~1 ms, issue 5).
      samples: positive(values.samples, 'samples', 1000),
      seedBudgetS: 20,
      chunkRows: 100_000,
      keep: values.keep === true,
      ...(reuse ? { reuse: reuse as [string, string] } : {}),
    };
    await recordPart(config, 'queries', options, () => runQueries(config, options, say), queriesChart, say);
  }
  if (wants('kafka-clients')) {
    const options = { messages: positive(values.messages, 'messages', 200_000), rounds: positive(values.rounds, 'rounds', 2), partitions: config.kafka.partitions, seed };
    await recordPart(config, 'kafka-clients', options, () => runKafkaClients(config, options, say), kafkaClientsChart, say);
  }
  if (parts.includes('codecs')) {
    const codecs = (values.codecs ?? COMPRESSION_NAMES.join(',')).split(',');
    const unknown = codecs.filter((c) => !(COMPRESSION_NAMES as ReadonlyArray<string>).includes(c));
    if (unknown.length > 0 || codecs.length === 0) throw new LedgerflowError('LF_CONFIG', `--codecs takes a comma-separated list of ${COMPRESSION_NAMES.join(', ')}, got ${JSON.stringify(values.codecs)}`, 'codecs');
    const options = {
      codecs: codecs as CompressionName[],
      // The window is the whole drain (the same start-up for every codec); --duration only caps it.
      durationS: positive(values.duration, 'duration', 1800),
      warmupS: 0,
      backlog: positive(values.backlog, 'backlog', 500_000),
      workers: Math.max(1, positive(values.workers, 'workers', 1)),
      accounts,
      seed,
      // The producer's default traffic: the labelled workload has no malformed events.
      workload: (values.workload ?? 'random') as typeof workload,
      malformedRatio: positive(values.malformed, 'malformed', 0.01),
      settings: { ...PIPELINE_SETTINGS, ...settingsOf(values.set ?? []) },
      nodeFlags: values['node-flags'] === undefined ? [...SERVICE_NODE_FLAGS] : values['node-flags'].split(' ').filter((f) => f.length > 0),
    };
    const loadavgBefore = loadAverage();
    const envelope = await recordPart(config, 'codecs', options, () => runCodecs(config, options, say), codecsChart, say);
    say(`bench codecs: wrote ${await writeCodecsReport(config, options, envelope.result, loadavgBefore)}`);
  }
  // The summary gathers the README's parts; a codecs-only run leaves it as it was.
  if (parts.some((p) => p !== 'codecs')) process.stdout.write(`${JSON.stringify(writeSummary(), null, 2)}\n`);
  return 0;
}
