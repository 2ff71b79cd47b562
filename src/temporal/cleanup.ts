import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client';
import type { Config } from '../config';
import { temporalConnectionOptions } from './connection';
import { forEachInFlight } from './inFlight';

/** Terminations in flight at once. */
const TERMINATIONS_IN_FLIGHT = 64;

/**
 * Terminates the workflows still running on the config's task queue, and returns how many: a
 * scratch run's review workflows (with fraud.reviewEnabled on) wait hours for a decision that
 * cannot come once its database is dropped, and would stay in Temporal with their escalation
 * timers, firing into later runs.
 */
export async function terminateRunningWorkflows(config: Config, reason: string): Promise<number> {
  const connection = await Connection.connect(temporalConnectionOptions(config));
  try {
    const client = new Client({ connection, namespace: config.temporal.namespace });
    const query = `TaskQueue = '${config.temporal.taskQueue.replace(/'/g, '')}' AND ExecutionStatus = 'Running'`;
    let terminated = 0;
    // Terminated workflows leave the query's result: list again until a listing finds none.
    for (;;) {
      const ids: string[] = [];
      for await (const w of client.workflow.list({ query, pageSize: 1000 })) {
        ids.push(w.workflowId);
        if (ids.length >= 10_000) break;
      }
      if (ids.length === 0) return terminated;
      const before = terminated;
      await forEachInFlight(ids, TERMINATIONS_IN_FLIGHT, async (id) => {
        try {
          await client.workflow.getHandle(id).terminate(reason);
          terminated += 1;
        } catch (err) {
          if (!(err instanceof WorkflowNotFoundError)) throw err; // closed meanwhile
        }
      });
      // All of them had closed already: the listing lags behind (visibility is updated after the fact).
      if (terminated === before) return terminated;
    }
  } finally {
    await connection.close();
  }
}
