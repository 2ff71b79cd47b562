/**
 * POST /transactions under a closed-loop load: `--concurrency` clients each send one-transaction
 * requests back to back, `--requests` per round. Used for the cost of the idempotency store
 * (docs/decisions/019-http-idempotency.md); point it at any running api.
 *
 * Every request carries an Idempotency-Key (the api requires one). Modes:
 * - `fresh`: a new key per request: claim (INSERT), produce to Kafka, record the answer (UPDATE);
 * - `replay`: keys a fresh round already used, with the same bodies: the first answer again,
 *   read from the store (INSERT refused as a duplicate, SELECT), nothing produced.
 * With a credential of scope `metrics`, the api's /metrics is read around each round: the time
 * its database statements took per request, by SQL operation (ledgerflow_db_query_duration_seconds).
 * On the ingest path the api's INSERTs and UPDATEs are the idempotency store's claim and answer.
 *
 *   npx tsx bench/http-ingest.ts --url http://127.0.0.1:8080 --token-file .stack/secrets/api-token \
 *     [--requests 2000] [--concurrency 16] [--rounds 2] [--modes fresh,replay] [--out bench/results/http-ingest.json]
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';

const USAGE =
  'usage: npx tsx bench/http-ingest.ts --url URL [--token-file FILE] [--requests N] [--concurrency C] [--rounds R] [--modes fresh,replay] [--out FILE]';
const MODES = ['fresh', 'replay'] as const;
type Mode = (typeof MODES)[number];

function options() {
  try {
    const { values } = parseArgs({
      options: {
        url: { type: 'string' },
        'token-file': { type: 'string' },
        requests: { type: 'string' },
        concurrency: { type: 'string' },
        rounds: { type: 'string' },
        modes: { type: 'string' },
        out: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help) {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    }
    if (!values.url) throw new Error('--url is required');
    const [requests, concurrency, rounds] = [values.requests ?? '2000', values.concurrency ?? '16', values.rounds ?? '1'].map(Number) as [number, number, number];
    if (![requests, concurrency, rounds].every((n) => Number.isSafeInteger(n) && n >= 1)) throw new Error('--requests, --concurrency and --rounds are positive integers');
    const modes = (values.modes ?? 'fresh').split(',') as Mode[];
    if (modes.some((m) => !MODES.includes(m))) throw new Error(`--modes takes ${MODES.join(', ')}`);
    const token = values['token-file'] ? fs.readFileSync(values['token-file'], 'utf8').trim() : undefined;
    return { url: values.url, token, requests, concurrency, rounds, modes, out: values.out };
  } catch (err) {
    process.stderr.write(`http-ingest: ${(err as Error).message.split('\n')[0]}\n${USAGE}\n`);
    process.exit(2);
  }
}

type Options = ReturnType<typeof options>;
const percentile = (sorted: number[], p: number) => sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
const round1 = (n: number) => Math.round(n * 10) / 10;
const round3 = (n: number) => Math.round(n * 1000) / 1000;

/** Sum (s) and count of the api's database statements by operation, or null without scope `metrics`. */
async function dbStatements(o: Options): Promise<Record<string, { sumS: number; count: number }> | null> {
  const res = await fetch(`${o.url}/metrics`, { headers: o.token ? { authorization: `Bearer ${o.token}` } : {} });
  if (res.status !== 200) {
    await res.arrayBuffer();
    return null;
  }
  const out: Record<string, { sumS: number; count: number }> = {};
  for (const m of (await res.text()).matchAll(/^ledgerflow_db_query_duration_seconds_(sum|count)\{([^}]*)\} (\S+)$/gm)) {
    const operation = /operation="(\w+)"/.exec(m[2] as string)?.[1] ?? '?';
    const outcome = /outcome="(\w+)"/.exec(m[2] as string)?.[1] ?? '?';
    // A refused INSERT (the key exists: a replay) is its own line.
    const entry = (out[outcome === 'ok' ? operation : `${operation} (${outcome})`] ??= { sumS: 0, count: 0 });
    if (m[1] === 'sum') entry.sumS += Number(m[3]);
    else entry.count += Number(m[3]);
  }
  return out;
}

async function runRound(o: Options, mode: Mode, keys: string[]) {
  const latenciesMs: number[] = [];
  const statuses: Record<number, number> = {};
  let next = 0;
  const client = async () => {
    while (next < o.requests) {
      const i = next++;
      const key = keys[i] as string;
      // The body follows from the key, so a replay sends its first body again.
      const n = Number(key.slice(key.lastIndexOf('-') + 1));
      const body = JSON.stringify({ account: `bench-http-${n % 500}`, type: 'credit', amountMinor: String(100 + (n % 900)), currency: 'EUR', occurredAt: '2026-12-03T00:00:00.000Z' });
      const started = performance.now();
      const res = await fetch(`${o.url}/transactions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': key, ...(o.token ? { authorization: `Bearer ${o.token}` } : {}) },
        body,
      });
      await res.arrayBuffer();
      latenciesMs.push(performance.now() - started);
      statuses[res.status] = (statuses[res.status] ?? 0) + 1;
    }
  };
  const before = await dbStatements(o);
  const started = performance.now();
  await Promise.all(Array.from({ length: o.concurrency }, client));
  const seconds = (performance.now() - started) / 1000;
  const after = await dbStatements(o);
  const sorted = latenciesMs.sort((a, b) => a - b);
  const meanMs = sorted.reduce((a, b) => a + b, 0) / sorted.length;
  const db =
    before && after
      ? Object.fromEntries(
          Object.keys(after)
            .map((op) => [op, { count: (after[op]?.count ?? 0) - (before[op]?.count ?? 0), sumS: (after[op]?.sumS ?? 0) - (before[op]?.sumS ?? 0) }] as const)
            .filter(([, d]) => d.count > 0)
            .map(([op, d]) => [op, { perRequest: round3(d.count / o.requests), msPerRequest: round3((d.sumS * 1000) / o.requests), meanMs: round3((d.sumS * 1000) / d.count) }]),
        )
      : null;
  return {
    mode,
    requests: o.requests,
    concurrency: o.concurrency,
    statuses,
    requestsPerSec: round1(o.requests / seconds),
    latencyMs: { mean: round1(meanMs), p50: round1(percentile(sorted, 50)), p95: round1(percentile(sorted, 95)), p99: round1(percentile(sorted, 99)), max: round1(sorted[sorted.length - 1] ?? 0) },
    dbStatements: db,
    // On this route every statement of the api is the idempotency store's (auth and rate limits are in memory).
    dbShareOfMeanLatency: db ? round3(Object.values(db).reduce((a, d) => a + d.msPerRequest, 0) / meanMs) : null,
  };
}

function gitCommit(): string {
  const head = execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
  const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8' }).trim().length > 0;
  return dirty ? `${head} (with uncommitted changes)` : head;
}

async function main(): Promise<void> {
  const o = options();
  const [load1, load5, load15] = os.loadavg();
  const started = new Date();
  const rounds = [];
  for (let r = 0; r < o.rounds; r++) {
    // One set of fresh keys per round; a replay round reuses the keys of the round's fresh run.
    const keys = Array.from({ length: o.requests }, (_, i) => `bench-${Date.now().toString(36)}-${process.pid}-${r}-${i}`);
    for (const mode of o.modes) {
      const result = { round: r + 1, ...(await runRound(o, mode, keys)) };
      process.stdout.write(`${JSON.stringify(result)}\n`);
      rounds.push(result);
    }
  }
  if (!o.out) return;
  const [after1, after5, after15] = os.loadavg();
  const report = {
    name: 'http-ingest',
    what: 'POST /transactions, one transaction per request, closed loop (bench/http-ingest.ts): fresh Idempotency-Keys (claim, produce, answer recorded) and replays of them (the first answer from the store), with the api\'s database statement time per request.',
    commit: gitCommit(),
    when: started.toISOString(),
    durationMs: Date.now() - started.getTime(),
    machine: { cpuModel: os.cpus()[0]?.model ?? 'unknown', cores: os.cpus().length, memoryBytes: os.totalmem(), node: process.version },
    loadavgBefore: { '1m': load1, '5m': load5, '15m': load15 },
    loadavgAfter: { '1m': after1, '5m': after5, '15m': after15 },
    settings: { requests: o.requests, concurrency: o.concurrency, rounds: o.rounds, modes: o.modes },
    rounds,
  };
  fs.writeFileSync(o.out, `${JSON.stringify(report, null, 2)}\n`);
  process.stderr.write(`http-ingest: wrote ${o.out}\n`);
}

void main();
