import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Config } from '../config';
import { LedgerflowError } from '../domain/errors';
import { startProducer, type ProduceReport } from '../producer';
import { DEFAULT_FRAUD_RATE } from '../producer/generator';
import { trafficPopulation } from '../producer/traffic';
import { localApiToken, localTelemetry, localTokenFile, stackLayout, stackPorts, stackUp } from '../stack';
import { otlpMetricsEnabled } from '../telemetry/otlp';
import { fraudOutcome } from '../store/fraudLabels';
import { migrate } from '../store/migrate';
import { createPool } from '../store/pool';
import { createFileLogger, resolveLogFormat, type Logger } from '../telemetry/log';
import { verify } from '../verify';
import { startOffsetSampler } from './progress';
import { writeDemoReport } from './report';
import { progressLine, stackStep, stepLine, summaryLines, type DemoSummary, type Progress } from './terminal';

/** Where the demo's lines go: a person's terminal, or structured records for a collector. */
interface DemoOutput {
  step(label: string, text: string, fields?: Record<string, unknown>): void;
  progress(p: Progress): void;
  endProgress(): void;
  summary(s: DemoSummary): void;
}

function personOutput(): DemoOutput {
  const live = process.stdout.isTTY === true;
  let shown = false;
  let lastPrintMs = 0;
  return {
    step: (label, text) => process.stdout.write(`${stepLine(label, text)}\n`),
    progress: (p) => {
      // On a terminal one line rewritten in place; elsewhere a line every few seconds.
      if (live) process.stdout.write(`\r\x1b[2K${progressLine(p)}`);
      else if (Date.now() - lastPrintMs >= 5_000) {
        process.stdout.write(`${progressLine(p)}\n`);
        lastPrintMs = Date.now();
      }
      shown = true;
    },
    endProgress: () => {
      if (live && shown) process.stdout.write('\n');
      shown = false;
    },
    summary: (s) => process.stdout.write(`${summaryLines(s).join('\n')}\n`),
  };
}

function recordOutput(log: Logger): DemoOutput {
  let lastMs = 0;
  return {
    step: (label, text, fields = {}) => log.info({ step: label, ...fields }, text),
    progress: (p) => {
      if (Date.now() - lastMs < 5_000) return;
      lastMs = Date.now();
      log.info(p, 'progress');
    },
    endProgress: () => undefined,
    // The credential's file, never the token: records go to collectors.
    summary: (s) => log.info({ verify: s.verify, fraud: s.fraud, sent: s.sent, malformed: s.malformed, elapsedS: s.elapsedS, urls: s.urls, apiTokenFile: s.apiTokenFile, logDir: s.logDir }, 'demo done'),
  };
}

/** A sibling `ledgerflow <command>` process with the same runtime flags (e.g. the tsx loader); its output goes to a file. */
function spawnProcess(command: string, logFile: string): ChildProcess {
  const fd = fs.openSync(logFile, 'w');
  try {
    return spawn(process.execPath, [...process.execArgv, require.resolve('../cli'), command], {
      stdio: ['ignore', fd, fd],
      // Records in the files stay JSON, whatever this terminal is.
      env: { ...process.env, LF_LOG_FORMAT: 'json' },
    });
  } finally {
    fs.closeSync(fd);
  }
}

/** The last lines of a child's log, for an error message that shows what went wrong. */
function tail(file: string, lines = 8): string {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

async function waitForHttp(url: string, timeoutMs: number, failed: () => string | undefined): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const why = failed();
    if (why) throw new LedgerflowError('LF_STACK', why);
    if (await fetch(url).then((r) => r.ok, () => false)) return;
    if (Date.now() > deadline) throw new LedgerflowError('LF_STACK', `${url} did not answer within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

const seconds = (sinceMs: number) => `${((Date.now() - sinceMs) / 1000).toFixed(1)} s`;

const USAGE_OPTIONS = {
  count: { type: 'string' },
  rate: { type: 'string' },
  seed: { type: 'string' },
  exit: { type: 'boolean' },
  report: { type: 'string' },
} as const;

function positive(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const x = Number(value);
  if (!Number.isSafeInteger(x) || x <= 0) throw new LedgerflowError('LF_CONFIG', `--${name} must be a positive integer, got ${JSON.stringify(value)}`, name);
  return x;
}

/**
 * `ledgerflow demo`: the local stack, migrations, consumer + worker + api as real processes, the
 * synthetic bank's traffic, then `verify` and how fraud detection did on this run. Stays up (live
 * page) until Ctrl-C unless --exit is given. On a terminal it talks to a person (the processes'
 * records go to files); otherwise it writes structured records.
 */
export async function demo(config: Config, args: string[], log: Logger): Promise<number> {
  const { values } = parseArgs({ args, options: USAGE_OPTIONS });
  const count = positive(values.count, 'count', 20_000);
  const rate = positive(values.rate, 'rate', 1_000);
  // A new bank every run by default: the same seed again would replay the same customers, whose
  // statistics the database already holds from the last run.
  const seed = positive(values.seed, 'seed', (Date.now() % 2 ** 31) || 1);
  const person = resolveLogFormat(config.log.format) === 'pretty';
  const logDir = path.join(stackLayout(config).logs, 'demo');
  fs.mkdirSync(logDir, { recursive: true });
  const shownLogDir = path.relative(process.cwd(), logDir) || logDir;
  const stackDir = stackLayout(config).root;
  const stackRoot = { absolute: stackDir, shown: path.relative(process.cwd(), stackDir) || stackDir };
  const records = person ? createFileLogger(config.log.level, 'demo', path.join(logDir, 'demo.log')) : log;
  const out = person ? personOutput() : recordOutput(log);
  const t0 = Date.now();
  if (person) process.stdout.write('Ledgerflow demo: a synthetic retail bank through Kafka → Temporal → MariaDB\n\n');

  await stackUp(config, {
    log: (line) => {
      records.info(line);
      const step = person ? stackStep(line, stackRoot) : null;
      if (step) out.step(step[0], step[1]);
    },
  });
  const tMigrate = Date.now();
  const migrated = await migrate(config, (line) => records.info(line));
  out.step('database', `${migrated.applied.length > 0 ? `migrations ${migrated.applied.join(', ')} applied` : 'schema up to date'} (${migrated.applied.length + migrated.alreadyApplied.length} migrations) in ${seconds(tMigrate)}`, { ...migrated });

  const tProcesses = Date.now();
  const roles = [['work', 'worker'], ['consume', 'consumer'], ['api', 'api']] as const;
  const children = roles.map(([command, name]) => ({ name, logFile: path.join(logDir, `${name}.log`), child: spawnProcess(command, path.join(logDir, `${name}.log`)) }));
  let stopping = false;
  const failed = () => {
    if (stopping) return undefined;
    const dead = children.find((c) => c.child.exitCode !== null || c.child.signalCode !== null);
    return dead ? `the ${dead.name} process exited (${dead.child.exitCode ?? dead.child.signalCode}); its log ${dead.logFile} ends with:\n${tail(dead.logFile)}` : undefined;
  };
  const stopAll = async () => {
    stopping = true;
    for (const { child } of children) if (child.exitCode === null) child.kill('SIGTERM');
    await Promise.all(children.map(({ child }) => (child.exitCode !== null || child.signalCode !== null ? undefined : new Promise((r) => child.once('exit', r)))));
  };
  try {
    const host = config.api.host;
    const base = `http://${host}:${config.api.port}`;
    await Promise.all([
      waitForHttp(`${base}/readyz`, 180_000, failed),
      waitForHttp(`http://${host}:${config.consumer.httpPort}/readyz`, 180_000, failed),
      waitForHttp(`http://${host}:${config.worker.httpPort}/readyz`, 180_000, failed),
    ]);
    out.step('processes', `worker, consumer and api ready in ${seconds(tProcesses)}; their logs: ${shownLogDir}/`, { logDir });

    const accounts = trafficPopulation({ ratePerSec: rate });
    out.step('traffic', `${count.toLocaleString('en-US')} transactions at ${rate.toLocaleString('en-US')}/s from a bank of ${accounts.toLocaleString('en-US')} accounts, ${(DEFAULT_FRAUD_RATE * 100).toFixed(1)} % injected fraud, 1 % malformed (seed ${seed})`, { count, rate, accounts, seed });
    out.step('live page', `${base}/`);
    const telemetry = localTelemetry(config);
    if (telemetry.collectorOtlp) {
      out.step('telemetry', `OpenTelemetry Collector ${telemetry.collectorOtlp} (OTLP)${telemetry.jaegerUi ? `, Jaeger ${telemetry.jaegerUi}` : ''}${!config.tracing.enabled && !otlpMetricsEnabled(config) ? `; to send it this demo's traces and metrics: LF_TRACING_ENABLED=true OTEL_METRICS_EXPORTER=otlp OTEL_EXPORTER_OTLP_ENDPOINT=${telemetry.collectorOtlp}` : ''}`);
    }
    if (person) process.stdout.write('\n');

    const sampler = await startOffsetSampler(config, records);
    const runStartMs = Date.now() - 1_000;
    let produced: ProduceReport | undefined;
    let previous = { atMs: Date.now(), committed: 0 };
    let ratePerSec = 0;
    const showProgress = async (final = false) => {
      const s = await sampler.sample();
      const nowMs = Date.now();
      // The last line keeps the run's average; the live one the last second's rate.
      if (final) ratePerSec = (s.committed * 1000) / Math.max(1, nowMs - runStartMs - 1_000);
      else if (nowMs - previous.atMs >= 900) {
        ratePerSec = ((s.committed - previous.committed) * 1000) / (nowMs - previous.atMs);
        previous = { atMs: nowMs, committed: s.committed };
      }
      out.progress({ produced: produced?.sent ?? 0, total: count, committed: s.committed, ratePerSec, lag: s.lag, dlq: s.dlq });
    };
    let sampling = Promise.resolve();
    const timer = setInterval(() => {
      sampling = sampling.then(() => showProgress()).catch((err: Error) => records.warn({ err: err.message }, 'progress sample failed'));
    }, 500);

    let summary: DemoSummary;
    try {
      const producer = await startProducer(config, { ratePerSec: rate, count, accounts, seed, malformedRatio: 0.01, serveMetrics: true, onProgress: (r) => (produced = { ...r }) }, records);
      const report = await Promise.race([
        producer.done,
        new Promise<never>((_, reject) => {
          const check = setInterval(() => {
            const why = failed();
            if (why) {
              clearInterval(check);
              reject(new LedgerflowError('LF_STACK', why));
            }
          }, 500);
          void producer.done.finally(() => clearInterval(check)).catch(() => undefined);
        }),
      ]);
      const runEndMs = Date.now() + 1_000;
      const checked = await verify(config, { waitMs: 300_000 }, records);
      clearInterval(timer);
      await sampling;
      await showProgress(true);
      out.endProgress();
      const pool = createPool(config, 'app', 1);
      const fraud = await fraudOutcome(pool, new Date(runStartMs).toISOString(), new Date(runEndMs).toISOString()).finally(() => pool.end());
      const ports = stackPorts(config);
      summary = {
        verify: checked,
        fraud,
        sent: report.sent,
        malformed: report.malformed,
        elapsedS: report.elapsedMs / 1000,
        reviewOpensPerBatchMax: config.fraud.reviewOpensPerBatchMax,
        reviewQueueMax: config.fraud.reviewQueueMax,
        urls: {
          livePage: `${base}/`,
          summary: `${base}/stats/summary`,
          openApi: `${base}/openapi.json`,
          temporalUi: `http://127.0.0.1:${ports.temporalUi}`,
          prometheus: `http://127.0.0.1:${ports.prometheus}`,
        },
        // Generated by `stack up` like the database passwords (mode 0600, never in git): every scope.
        apiCredential: localApiToken(config),
        apiTokenFile: path.relative(process.cwd(), localTokenFile(config, 'local')) || localTokenFile(config, 'local'),
        logDir: shownLogDir,
        cli: 'npx ledgerflow',
        stays: !values.exit,
      };
      if (values.report) {
        const file = writeDemoReport(values.report, { summary, settings: { count, rate, seed, accounts, fraudRate: DEFAULT_FRAUD_RATE, malformedRatio: 0.01 }, totalS: (Date.now() - t0) / 1000 });
        out.step('report', `written to ${path.relative(process.cwd(), file)}`, { file });
      }
    } finally {
      clearInterval(timer);
      await sampling;
      await sampler.close().catch(() => undefined);
    }
    out.summary(summary);
    if (!values.exit) {
      await new Promise<void>((resolve) => {
        process.once('SIGINT', () => resolve());
        process.once('SIGTERM', () => resolve());
      });
      if (person) process.stdout.write('\n  stopping the consumer, worker and api…\n');
    }
    return summary.verify.ok ? 0 : 1;
  } finally {
    await stopAll();
  }
}
