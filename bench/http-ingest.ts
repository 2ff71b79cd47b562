/**
 * POST /transactions under a closed-loop load: `--concurrency` clients each send one-transaction
 * requests with fresh Idempotency-Keys, back to back, `--requests` in all. Prints requests/s and
 * latency percentiles as JSON. Used for the cost of the idempotency store
 * (docs/decisions/019-http-idempotency.md); point it at any running api.
 *
 *   npx tsx bench/http-ingest.ts --url http://127.0.0.1:8080 --token-file .stack/secrets/api-token [--requests 4000] [--concurrency 16]
 */
import fs from 'node:fs';
import { parseArgs } from 'node:util';

const USAGE = 'usage: npx tsx bench/http-ingest.ts --url URL [--token-file FILE] [--requests N] [--concurrency C] [--label TEXT]';

function options() {
  try {
    const { values } = parseArgs({
      options: { url: { type: 'string' }, 'token-file': { type: 'string' }, requests: { type: 'string' }, concurrency: { type: 'string' }, label: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    });
    if (values.help) {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    }
    if (!values.url) throw new Error('--url is required');
    const requests = Number(values.requests ?? 4000);
    const concurrency = Number(values.concurrency ?? 16);
    if (!Number.isSafeInteger(requests) || requests < 1 || !Number.isSafeInteger(concurrency) || concurrency < 1) throw new Error('--requests and --concurrency are positive integers');
    const token = values['token-file'] ? fs.readFileSync(values['token-file'], 'utf8').trim() : undefined;
    return { url: values.url, token, requests, concurrency, label: values.label ?? '' };
  } catch (err) {
    process.stderr.write(`http-ingest: ${(err as Error).message.split('\n')[0]}\n${USAGE}\n`);
    process.exit(2);
  }
}

const percentile = (sorted: number[], p: number) => sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;

async function main(): Promise<void> {
  const o = options();
  const run = `${Date.now().toString(36)}-${process.pid}`;
  const latenciesMs: number[] = [];
  const statuses: Record<number, number> = {};
  let next = 0;
  const client = async () => {
    while (next < o.requests) {
      const i = next++;
      const body = JSON.stringify({ account: `bench-http-${i % 500}`, type: 'credit', amountMinor: String(100 + (i % 900)), currency: 'EUR', occurredAt: new Date().toISOString() });
      const started = performance.now();
      const res = await fetch(`${o.url}/transactions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': `bench-${run}-${i}`, ...(o.token ? { authorization: `Bearer ${o.token}` } : {}) },
        body,
      });
      await res.arrayBuffer();
      latenciesMs.push(performance.now() - started);
      statuses[res.status] = (statuses[res.status] ?? 0) + 1;
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: o.concurrency }, client));
  const seconds = (performance.now() - started) / 1000;
  const sorted = latenciesMs.sort((a, b) => a - b);
  const round = (n: number) => Math.round(n * 10) / 10;
  process.stdout.write(
    `${JSON.stringify({ label: o.label, requests: o.requests, concurrency: o.concurrency, statuses, requestsPerSec: round(o.requests / seconds), latencyMs: { p50: round(percentile(sorted, 50)), p99: round(percentile(sorted, 99)), max: round(sorted[sorted.length - 1] ?? 0) } })}\n`,
  );
}

void main();
