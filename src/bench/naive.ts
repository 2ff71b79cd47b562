import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import type { Config } from '../config';
import { workloadEvents, type Workload } from './workload';
import { createPool } from '../store/pool';
import { temporalConnectionOptions } from '../temporal/connection';
import { createBenchEnv } from './env';
import { createNaiveActivities } from './naive/activities';
import { lineChart } from './svg';
import { round } from './stats';

export interface NaiveOptions {
  durationS: number;
  /** Workflows started and awaited at once by the client. */
  inFlight: number;
  accounts: number;
  seed: number;
  workload: Workload;
}

export interface NaiveResult {
  completed: number;
  rowsStored: number;
  elapsedMs: number;
  txPerSec: number;
  timeline: Array<[number, number]>;
}

/**
 * The seed's shape as the baseline: one Temporal workflow per transaction whose activity does one
 * single-row INSERT. Kafka is left out, which only flatters the baseline (the ratio is conservative).
 */
export async function runNaive(baseConfig: Config, options: NaiveOptions, log: (line: string) => void): Promise<NaiveResult> {
  const env = await createBenchEnv('naive', { overrides: { 'log.level': baseConfig.log.level } });
  const { config } = env;
  const pool = createPool(config, 'app');
  const nativeConnection = await NativeConnection.connect(temporalConnectionOptions(config));
  const worker = await Worker.create({
    connection: nativeConnection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    workflowsPath: require.resolve('./naive/workflows'),
    activities: createNaiveActivities(pool),
    maxConcurrentActivityTaskExecutions: config.worker.maxConcurrentActivities * 4,
    maxConcurrentWorkflowTaskExecutions: config.worker.maxConcurrentWorkflowTasks * 4,
  });
  const running = worker.run();
  const connection = await Connection.connect(temporalConnectionOptions(config));
  const client = new Client({ connection, namespace: config.temporal.namespace });
  const next = workloadEvents(options.workload, { accounts: options.accounts, seed: options.seed });
  let completed = 0;
  const timeline: Array<[number, number]> = [];
  const started = Date.now();
  const deadline = started + options.durationS * 1000;
  let lastCount = 0;
  const sampler = setInterval(() => {
    timeline.push([round((Date.now() - started) / 1000), completed - lastCount]);
    lastCount = completed;
  }, 1000);
  try {
    const lane = async () => {
      while (Date.now() < deadline) {
        const event = next();
        await client.workflow.execute('naiveTransaction', { taskQueue: config.temporal.taskQueue, workflowId: `naive-${event.id}`, args: [event] });
        completed += 1;
      }
    };
    await Promise.all(Array.from({ length: options.inFlight }, lane));
    const elapsedMs = Date.now() - started;
    const [count] = await pool.query('SELECT COUNT(*) AS n FROM transactions');
    const rowsStored = Number((count as Array<{ n: string }>)[0]?.n ?? 0);
    const txPerSec = round(rowsStored / (elapsedMs / 1000), 1);
    log(`bench naive: ${rowsStored} rows in ${round(elapsedMs / 1000)} s = ${txPerSec} tx/s (${options.inFlight} workflows in flight)`);
    return { completed, rowsStored, elapsedMs, txPerSec, timeline };
  } finally {
    clearInterval(sampler);
    worker.shutdown();
    await running.catch(() => undefined);
    await Promise.allSettled([connection.close(), nativeConnection.close(), pool.end()]);
    await env.dispose();
  }
}

export function naiveChart(r: NaiveResult): string {
  return lineChart(`Naive baseline: one workflow + one INSERT per tx, ${r.txPerSec} tx/s`, 'seconds', 'tx/s', [{ name: 'naive', points: r.timeline }]);
}
