import path from 'node:path';
import { parentPort, Worker, workerData } from 'node:worker_threads';
import type { LedgerOutcome } from '../domain/ledger';
import { rowChunks, type ChunkSourceOptions } from './bulk';

/**
 * Row chunks generated on a worker thread, so the main thread's event loop stays free to stream
 * LOAD DATA files to the server (a blocked loop mid-LOAD DATA made the server drop the connection
 * after net_read_timeout) and generation overlaps the server's inserting.
 */
export interface GeneratedChunk {
  tsv: Buffer;
  rows: number;
  /** What applyBatch would write besides the rows (decisions stay in the worker). */
  effects: Pick<LedgerOutcome, 'balanceDeltas' | 'rollups' | 'accountDays'>;
  /** Every `idEvery`-th transaction id of the chunk (samples for the by-id query). */
  sampledIds: string[];
}

interface WorkerInput {
  options: ChunkSourceOptions;
  idEvery: number;
}

/** Chunks at most `ahead` chunks ahead of the consumer (bounded memory). */
export async function* chunksOnWorker(options: ChunkSourceOptions, idEvery: number, ahead = 2): AsyncGenerator<GeneratedChunk> {
  const file = path.join(__dirname, `chunkWorker${path.extname(__filename)}`);
  // Under tsx (npm run bench) the worker registers tsx itself; the built JS needs nothing.
  const boot = `${file.endsWith('.ts') ? "require('tsx/cjs');" : ''}require(${JSON.stringify(file)});`;
  const worker = new Worker(boot, { eval: true, workerData: { options, idEvery } satisfies WorkerInput });
  const ready: GeneratedChunk[] = [];
  let wake: (() => void) | null = null;
  let failure: Error | null = null;
  let finished = false;
  worker.on('message', (m: GeneratedChunk | 'done') => {
    if (m === 'done') finished = true;
    else ready.push({ ...m, tsv: Buffer.from(m.tsv.buffer, m.tsv.byteOffset, m.tsv.byteLength) });
    wake?.();
  });
  worker.on('error', (err) => {
    failure = err;
    wake?.();
  });
  try {
    worker.postMessage(ahead);
    for (;;) {
      if (failure) throw failure;
      const next = ready.shift();
      if (next) {
        worker.postMessage(1);
        yield next;
        continue;
      }
      if (finished) return;
      await new Promise<void>((resolve) => (wake = resolve));
      wake = null;
    }
  } finally {
    await worker.terminate();
  }
}

function runWorker(port: NonNullable<typeof parentPort>, input: WorkerInput): void {
  const chunks = rowChunks(input.options);
  let credit = 0;
  port.on('message', (more: number) => {
    credit += more;
    for (; credit > 0; credit--) {
      const next = chunks.next();
      if (next.done) {
        port.postMessage('done');
        return;
      }
      const { tsv, rows, outcome, events } = next.value;
      const sampledIds: string[] = [];
      for (let i = 0; i < events.length; i += input.idEvery) sampledIds.push((events[i] as { id: string }).id);
      const message: GeneratedChunk = { tsv, rows, effects: { balanceDeltas: outcome.balanceDeltas, rollups: outcome.rollups, accountDays: outcome.accountDays }, sampledIds };
      port.postMessage(message, [tsv.buffer as ArrayBuffer]);
    }
  });
}

if (parentPort && (workerData as WorkerInput | undefined)?.options) runWorker(parentPort, workerData as WorkerInput);
