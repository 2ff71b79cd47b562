import fs from 'node:fs';
import type { Config } from '../config';
import { insertFraudLabels, type FraudLabel } from '../store/fraudLabels';
import { createPool, type Pool } from '../store/pool';
import type { Logger } from '../telemetry/log';

/**
 * Where the producer records which events it injected as fraud: the database's fraud_labels
 * table (what the demo summary and the business dashboard join with the flags) and/or a JSON-lines
 * file. Never the event itself: detection must not be able to see the answer.
 */
export interface LabelSink {
  add(labels: ReadonlyArray<FraudLabel>): void;
  /** Writes what is still queued (waiting up to timeoutMs for the database), then closes. */
  close(timeoutMs?: number): Promise<void>;
}

/** Labels held while the database is unreachable; past this the oldest are dropped, with a warning. */
const QUEUED_MAX = 200_000;

/**
 * Labels go out in the background, off the send path: a chaos run restarts the database under
 * load, and the producer keeps sending meanwhile (labels are about one event in seventy).
 */
function databaseSink(pool: Pool, log: Logger): LabelSink {
  let queue: FraudLabel[] = [];
  let dropped = 0;
  let closing = false;
  let wake: (() => void) | undefined;
  const writer = (async () => {
    for (let attempt = 0; ; ) {
      if (queue.length === 0) {
        if (closing) return;
        await new Promise<void>((r) => (wake = r));
        continue;
      }
      const part = queue.slice(0, 2_000);
      try {
        await insertFraudLabels(pool, part);
        queue = queue.slice(part.length);
        attempt = 0;
      } catch (err) {
        attempt += 1;
        if (attempt === 1 || attempt % 20 === 0) log.warn({ err: (err as Error).message, queued: queue.length }, 'writing fraud labels failed; retrying');
        if (closing && attempt >= 3) return;
        await new Promise((r) => setTimeout(r, Math.min(5_000, 200 * attempt)));
      }
    }
  })();
  return {
    add(labels) {
      if (labels.length === 0) return;
      queue.push(...labels);
      if (queue.length > QUEUED_MAX) {
        dropped += queue.length - QUEUED_MAX;
        queue = queue.slice(queue.length - QUEUED_MAX);
      }
      wake?.();
      wake = undefined;
    },
    async close(timeoutMs = 30_000) {
      closing = true;
      wake?.();
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([writer, new Promise((r) => (timer = setTimeout(r, timeoutMs)))]);
      clearTimeout(timer);
      if (queue.length > 0 || dropped > 0) log.warn({ unwritten: queue.length + dropped }, 'some fraud labels were not written: precision and recall of this run are approximate');
      await pool.end();
    },
  };
}

function fileSink(file: string): LabelSink {
  fs.writeFileSync(file, '');
  return {
    add(labels) {
      if (labels.length > 0) fs.appendFileSync(file, labels.map((l) => `${JSON.stringify({ id: l.txId, pattern: l.pattern })}\n`).join(''));
    },
    close: async () => undefined,
  };
}

export function createLabelSink(config: Config, target: { database: boolean; file?: string | undefined }, log: Logger): LabelSink {
  const sinks: LabelSink[] = [];
  if (target.database) sinks.push(databaseSink(createPool(config, 'app', 1), log));
  if (target.file) sinks.push(fileSink(target.file));
  return {
    add: (labels) => sinks.forEach((s) => s.add(labels)),
    close: async (timeoutMs) => {
      await Promise.all(sinks.map((s) => s.close(timeoutMs)));
    },
  };
}
