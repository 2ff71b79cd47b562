import { temporal } from '@temporalio/proto';
import type { Gauge } from 'prom-client';
import type { Logger } from '../telemetry/log';

/**
 * The task queue's backlog as Temporal counts it (DescribeTaskQueue with report_stats: the same
 * approximate backlog KEDA's Temporal scaler reads), exported as ledgerflow_task_queue_backlog
 * so an HPA on external metrics, or KEDA's Prometheus trigger, can scale the workers where KEDA's
 * Temporal scaler cannot dial Temporal (docs/decisions/028-autoscaling-signals.md).
 */
export const QUEUE_TYPES = {
  workflow: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
  activity: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
} as const;

type DescribeTaskQueue = (request: temporal.api.workflowservice.v1.IDescribeTaskQueueRequest) => Promise<temporal.api.workflowservice.v1.IDescribeTaskQueueResponse>;

export async function readBacklog(describe: DescribeTaskQueue, namespace: string, taskQueue: string): Promise<Record<keyof typeof QUEUE_TYPES, number>> {
  const read = async (taskQueueType: temporal.api.enums.v1.TaskQueueType) => {
    const response = await describe({ namespace, taskQueue: { name: taskQueue, kind: temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL }, taskQueueType, reportStats: true });
    return Number(response.stats?.approximateBacklogCount ?? 0);
  };
  const [workflow, activity] = await Promise.all([read(QUEUE_TYPES.workflow), read(QUEUE_TYPES.activity)]);
  return { workflow, activity };
}

export interface BacklogPoller {
  stop(): void;
}

/** Polls every `intervalMs` (0: never); a failed read is logged and leaves the last value in place. */
export function startBacklogPoller(opts: { describe: DescribeTaskQueue; namespace: string; taskQueue: string; intervalMs: number; gauge: Gauge<'task_queue' | 'queue_type'>; log: Logger }): BacklogPoller {
  if (opts.intervalMs <= 0) return { stop: () => undefined };
  let failing = false;
  const poll = async () => {
    try {
      const backlog = await readBacklog(opts.describe, opts.namespace, opts.taskQueue);
      for (const [type, tasks] of Object.entries(backlog)) opts.gauge.set({ task_queue: opts.taskQueue, queue_type: type }, tasks);
      failing = false;
    } catch (err) {
      if (!failing) opts.log.warn({ err: (err as Error).message, taskQueue: opts.taskQueue }, 'task-queue backlog read failed; ledgerflow_task_queue_backlog keeps its last value');
      failing = true;
    }
  };
  void poll();
  const timer = setInterval(() => void poll(), opts.intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
