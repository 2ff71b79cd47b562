import { spawn, type ChildProcess } from 'node:child_process';
import { parseArgs } from 'node:util';
import type { Config } from '../config';
import { startProducer } from '../producer';
import { localTelemetry, stackUp } from '../stack';
import { otlpMetricsEnabled } from '../telemetry/otlp';
import { migrate } from '../store/migrate';
import type { Logger } from '../telemetry/log';
import { verify } from '../verify';

/** Starts a sibling `ledgerflow <command>` process with the same runtime flags (e.g. the tsx loader). */
function spawnProcess(command: string, log: Logger): ChildProcess {
  const child = spawn(process.execPath, [...process.execArgv, require.resolve('../cli'), command], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: process.env,
  });
  child.on('exit', (code, signal) => log.info({ command, code, signal }, 'process exited'));
  return child;
}

async function waitForHttp(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/**
 * The README's demo: local stack, migrations, consumer + worker + api as real processes, a
 * bounded load, then `verify`. Stays up (live page) until Ctrl-C unless --exit is given.
 */
export async function demo(config: Config, args: string[], log: Logger): Promise<number> {
  const { values } = parseArgs({ args, options: { count: { type: 'string' }, rate: { type: 'string' }, exit: { type: 'boolean' } } });
  const count = Number(values.count ?? 20_000);
  const rate = Number(values.rate ?? 2_000);
  await stackUp(config, { log: (line) => log.info(line) });
  await migrate(config, (line) => log.info(line));
  const children = ['work', 'consume', 'api'].map((c) => spawnProcess(c, log));
  const stopAll = async () => {
    for (const child of children) child.kill('SIGTERM');
    await Promise.all(children.map((c) => (c.exitCode !== null ? undefined : new Promise((r) => c.once('exit', r)))));
  };
  try {
    const base = `http://${config.api.host}:${config.api.port}`;
    await Promise.all([
      waitForHttp(`${base}/readyz`, 120_000),
      waitForHttp(`http://${config.api.host}:${config.consumer.httpPort}/readyz`, 120_000),
      waitForHttp(`http://${config.api.host}:${config.worker.httpPort}/readyz`, 120_000),
    ]);
    const telemetry = localTelemetry(config);
    log.info({ livePage: `${base}/`, api: `${base}/openapi.json`, temporalUi: 'http://127.0.0.1:8233', prometheus: `http://127.0.0.1:${config.stack.prometheusPort}`, ...telemetry }, 'pipeline up: open the live page');
    if (telemetry.collectorOtlp && !config.tracing.enabled && !otlpMetricsEnabled(config)) {
      log.info(`the stack's collector runs; to send it this demo's traces and metrics: LF_TRACING_ENABLED=true OTEL_METRICS_EXPORTER=otlp OTEL_EXPORTER_OTLP_ENDPOINT=${telemetry.collectorOtlp}`);
    }
    const producer = await startProducer(config, { ratePerSec: rate, count, accounts: 1000, seed: 42, malformedRatio: 0.01, serveMetrics: true }, log);
    const produced = await producer.done;
    log.info(produced, 'load produced; waiting for the pipeline to drain');
    const report = await verify(config, { waitMs: 300_000 }, log);
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    process.stdout.write(`\nLive page: ${base}/   Summary: ${base}/stats/summary   Temporal UI: http://127.0.0.1:8233\n`);
    if (telemetry.collectorPrometheus) process.stdout.write(`OpenTelemetry Collector: ${telemetry.collectorOtlp} (OTLP)   metrics received: ${telemetry.collectorPrometheus}\n`);
    if (telemetry.jaegerUi) process.stdout.write(`Jaeger: ${telemetry.jaegerUi}\n`);
    if (!values.exit) {
      process.stdout.write('Running; press Ctrl-C to stop the processes (the stack keeps running: `ledgerflow stack down`).\n');
      await new Promise<void>((resolve) => {
        process.once('SIGINT', () => resolve());
        process.once('SIGTERM', () => resolve());
      });
    }
    return report.ok ? 0 : 1;
  } finally {
    await stopAll();
  }
}
