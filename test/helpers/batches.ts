import net from 'node:net';
import { Client, type Connection } from '@temporalio/client';
import type { Message } from 'kafkajs';
import type { Config } from '../../src/config';
import { connectProducerWithTopics, createKafka, sendKeyed } from '../../src/kafka/client';
import { dataConverter } from '../../src/temporal/codec';

/** A port free right now on 127.0.0.1 (for a process whose /metrics a test scrapes). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The value of one series (name and exact labels, besides `process`) on a /metrics page; 0 when absent. */
export async function scrapeMetric(port: number, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

/** Produces messages as an independent producer would: keyed by account, acks=all, one send per partition. */
export async function produceKeyed(config: Config, messages: ReadonlyArray<Message & { key: string }>): Promise<number[]> {
  const kafka = createKafka(config, 'test-producer');
  const target = await connectProducerWithTopics(config, kafka);
  try {
    return await sendKeyed(target, config.kafka.topic, messages);
  } finally {
    await target.producer.disconnect();
  }
}

/** What Temporal recorded of one batch workflow: how often its apply ran, and whether anything failed. */
export interface BatchRun {
  workflowId: string;
  status: string;
  /** The attempt of each applyBatch local activity that completed (from its marker). */
  applyAttempts: number[];
  workflowTaskFailures: number;
  activityTaskFailures: number;
}

/**
 * Every processBatch workflow of the run's task queue, read from Temporal's own history: the
 * number of attempts comes from the server's record, not from a clock or the worker's memory.
 */
export async function batchRuns(connection: Connection, config: Config): Promise<BatchRun[]> {
  const client = new Client({ connection, namespace: config.temporal.namespace, dataConverter: dataConverter() });
  const query = `TaskQueue = '${config.temporal.taskQueue}' AND WorkflowType = 'processBatch'`;
  const runs: BatchRun[] = [];
  for await (const w of client.workflow.list({ query })) {
    const history = await client.workflow.getHandle(w.workflowId, w.runId).fetchHistory();
    const run: BatchRun = { workflowId: w.workflowId, status: w.status.name, applyAttempts: [], workflowTaskFailures: 0, activityTaskFailures: 0 };
    for (const e of history.events ?? []) {
      const marker = e.markerRecordedEventAttributes;
      const data = marker?.markerName === 'core_local_activity' ? marker.details?.data?.payloads?.[0]?.data : undefined;
      if (data) run.applyAttempts.push((JSON.parse(Buffer.from(data).toString('utf8')) as { attempt: number }).attempt);
      if (e.workflowTaskFailedEventAttributes) run.workflowTaskFailures += 1;
      if (e.activityTaskFailedEventAttributes) run.activityTaskFailures += 1;
    }
    runs.push(run);
  }
  return runs;
}
