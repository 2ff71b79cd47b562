/**
 * The image as it ships. Built with podman from the repository's Dockerfile (local stand-ins for
 * its base images: no image registry is reachable here), then every process it runs in the chart
 * is run from it under the chart's restrictions (UID 65532, read-only root filesystem, no
 * capabilities, no privilege escalation, a tmpfs only on /tmp) against the real local stack:
 * migrate applies the migrations, the worker, consumer and api become ready, the producer sends
 * events through them, verify finds nothing lost or duplicated, the worker loaded its prebuilt
 * workflow bundle instead of bundling, and SIGTERM stops each process with exit code 0.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { dbPassword, envVarOf, loadConfig, type Config } from '../../src/config';
import { buildImage, NODE_VERSION, NONROOT_UID, saveImage, type BuiltImage } from '../../src/image';
import { ensureSystemPackages } from '../../src/stack/install';
import { createScratchRun, type ScratchRun } from '../../src/stack/scratch';
import { loadMigrations } from '../../src/store/dialect';
import { createPool } from '../../src/store/pool';
import { bearer, createTestKeys, type TestKeys } from '../helpers/apiKeys';
import { containerArgs, followLogs, podmanRun } from '../helpers/containers';
import { waitForStatus } from '../helpers/processes';
import { recordReport, REPORT_ENABLED, treeCleanApartFromRunOutputs } from './report';

const EVENTS = 4_000;
const HTTP_EVENTS = 50;
const READY_TIMEOUT_MS = 180_000;

let base: Config;
let run: ScratchRun;
let image: BuiltImage;
let keys: TestKeys;
/** Where the chart mounts the api's key set (its Secret volume). */
const KEYS_MOUNT = '/etc/ledgerflow/api-keys';
const started: string[] = [];
const report: Record<string, unknown> = {};

before(async () => {
  base = loadConfig();
  // The image's migrate applies the migrations: the scratch database starts empty.
  // The api is closed to anyone without a credential: a key set of its own, readable by the
  // image's user as the chart's Secret volume makes it (owner 65532 via fsGroup, 0440).
  keys = createTestKeys([{ id: 'image-test-ingest', scopes: ['ingest', 'read'] }]);
  fs.chownSync(path.dirname(keys.file), NONROOT_UID, NONROOT_UID);
  fs.chownSync(keys.file, NONROOT_UID, NONROOT_UID);
  fs.chmodSync(keys.file, 0o440);
  run = await createScratchRun('image', { 'log.level': 'info', 'fraud.reviewEnabled': false }, { migrate: false });
  image = await buildImage(base, { log: (line) => console.error(line) });
  report.image = { ref: image.ref, id: image.id, sizeBytes: image.sizeBytes, buildSeconds: Math.round(image.buildSeconds), standInSeconds: Math.round(image.standInSeconds), bases: image.bases };
}, { timeout: 45 * 60_000 });

after(async () => {
  for (const name of started) await podmanRun(['rm', '--force', '--time', '0', name]);
  await run?.dispose();
  keys?.remove();
  if (image) writeReport();
});

/** The LF_* settings of this run, as the chart's ConfigMap and Secrets would give them. */
function settings(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(run.childEnv())) if (key.startsWith('LF_') && value !== undefined) out[key] = value;
  // Passwords come from Secrets in the chart, never from the local stack's password files.
  out[envVarOf('db.password') as string] = dbPassword(run.config, 'app');
  out[envVarOf('db.migrationPassword') as string] = dbPassword(run.config, 'migrate');
  out[envVarOf('db.passwordFile') as string] = '';
  out[envVarOf('db.migrationPasswordFile') as string] = '';
  out[envVarOf('api.keysFile') as string] = `${KEYS_MOUNT}/${path.basename(keys.file)}`;
  return out;
}

function runToEnd(command: string[], entrypoint?: string) {
  const { args, env } = containerArgs(settings(), ['--rm', ...(entrypoint ? ['--entrypoint', entrypoint] : [])]);
  return podmanRun([...args, image.ref, ...command], env);
}

async function startDetached(command: string): Promise<{ name: string; logs: ReturnType<typeof followLogs> }> {
  const name = `lf-image-test-${command}-${process.pid}`;
  await podmanRun(['rm', '--force', '--time', '0', name]);
  const { args, env } = containerArgs(settings(), ['--detach', '--name', name, '--volume', `${path.dirname(keys.file)}:${KEYS_MOUNT}:ro`]);
  const res = await podmanRun([...args, image.ref, command], env);
  assert.equal(res.code, 0, `podman run ${command}: ${res.stderr}`);
  started.push(name);
  return { name, logs: followLogs(name) };
}

/** Ready within the bound, or a failure that carries the end of the container's log (why it is not). */
async function readyOrLogs(proc: { name: string; logs: ReturnType<typeof followLogs> }, url: string): Promise<void> {
  try {
    await waitForStatus(url, 200, READY_TIMEOUT_MS);
  } catch (err) {
    throw new Error(`${proc.name}: ${(err as Error).message}; its log ends:\n${proc.logs.text().slice(-3000)}`);
  }
}

/** SIGTERM, as the kubelet sends it; the exit code once the process is gone. */
async function terminate(name: string): Promise<number> {
  await podmanRun(['kill', '--signal', 'SIGTERM', name]);
  const res = await podmanRun(['wait', name], process.env, 120_000);
  assert.equal(res.code, 0, res.stderr);
  return Number(res.stdout.trim());
}

test('the image runs as 65532 on Node 24 with no shell, and every native module in it loads', { timeout: 300_000 }, async () => {
  const inspect = JSON.parse(execFileSync('podman', ['image', 'inspect', image.ref], { encoding: 'utf8' }))[0] as { Config: { User: string } };
  assert.equal(inspect.Config.User, `${NONROOT_UID}:${NONROOT_UID}`);
  const noShell = await runToEnd(['-c', 'true'], '/bin/sh');
  assert.notEqual(noShell.code, 0, 'there is no /bin/sh in the image');
  // Loads every .node file of node_modules, under the chart's restrictions.
  const probe = `
    const fs = require('node:fs'); const path = require('node:path');
    const found = [];
    const walk = (d) => { for (const e of fs.readdirSync(d, { withFileTypes: true })) { const f = path.join(d, e.name);
      if (e.isDirectory()) walk(f); else if (e.name.endsWith('.node')) found.push(f); } };
    walk('node_modules');
    for (const f of found) process.dlopen({ exports: {} }, path.resolve(f));
    require('@temporalio/core-bridge'); require('usearch');
    console.log(JSON.stringify({ node: process.version, uid: process.getuid(), found }));`;
  const res = await runToEnd(['-e', probe], '/nodejs/bin/node');
  assert.equal(res.code, 0, res.stderr);
  const facts = JSON.parse(res.stdout) as { node: string; uid: number; found: string[] };
  assert.equal(facts.node, `v${NODE_VERSION}`);
  assert.equal(facts.uid, NONROOT_UID);
  assert.ok(facts.found.some((f) => f.includes('@temporalio/core-bridge')), facts.found.join(' '));
  assert.ok(facts.found.some((f) => f.includes('usearch')), facts.found.join(' '));
  report.nativeModules = facts.found;
});

test('migrate, work, consume, api and produce run as the chart runs them; nothing lost or duplicated; SIGTERM exits 0', { timeout: 900_000 }, async () => {
  const migrated = await runToEnd(['migrate']);
  assert.equal(migrated.code, 0, migrated.stderr + migrated.stdout);
  const pool = createPool(run.config, 'app', 1);
  try {
    const [rows] = await pool.query('SELECT COUNT(*) AS n FROM schema_migrations');
    assert.equal(Number((rows as Array<{ n: number }>)[0]?.n), loadMigrations(run.config.db.dialect).length, 'every migration applied');
  } finally {
    await pool.end();
  }

  const worker = await startDetached('work');
  const consumer = await startDetached('consume');
  const api = await startDetached('api');
  const { config } = run;
  await Promise.all([
    readyOrLogs(worker, `http://127.0.0.1:${config.worker.httpPort}/readyz`),
    readyOrLogs(consumer, `http://127.0.0.1:${config.consumer.httpPort}/readyz`),
    readyOrLogs(api, `http://127.0.0.1:${config.api.port}/readyz`),
  ]);

  const produced = await runToEnd(['produce', '--rate', '2000', '--count', String(EVENTS), '--accounts', '200', '--seed', '19']);
  assert.equal(produced.code, 0, produced.stderr);
  const body = Array.from({ length: HTTP_EVENTS }, (_, i) => ({
    account: `acct-http-${i % 5}`, type: 'credit', amountMinor: String(100 + i), currency: 'EUR', occurredAt: new Date().toISOString(),
  }));
  const ingest = await fetch(`http://127.0.0.1:${config.api.port}/transactions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': `image-test-${process.pid}`, ...bearer(keys.tokens['image-test-ingest'] as string) },
    body: JSON.stringify(body),
  });
  assert.equal(ingest.status, 202, await ingest.text());

  const verified = await runToEnd(['verify', '--wait-ms', '180000']);
  const summary = JSON.parse(verified.stdout) as { ok: boolean; valid: number; stored: number; missing: number; duplicated: number; balanceMismatches: number };
  assert.equal(verified.code, 0, verified.stdout);
  assert.ok(summary.ok);
  assert.equal(summary.valid, EVENTS + HTTP_EVENTS);
  report.verify = { valid: summary.valid, stored: summary.stored, missing: summary.missing, duplicated: summary.duplicated, balanceMismatches: summary.balanceMismatches };

  // Timing-free evidence that the worker did not run webpack: it logged the prebuilt bundle it loaded, and no build.
  const workerLog = worker.logs.text();
  const bundleLines = workerLog.split('\n').filter((l) => l.includes('workflow bundle'));
  assert.ok(bundleLines.some((l) => /"source":"prebuilt"/.test(l) && l.includes('/app/dist/workflow-bundles/')), bundleLines.join('\n') || workerLog.slice(-2000));
  assert.ok(!bundleLines.some((l) => /bundle built/.test(l)), bundleLines.join('\n'));

  const exits: Record<string, number> = {};
  for (const proc of [consumer, worker, api]) exits[proc.name] = await terminate(proc.name);
  for (const proc of [consumer, worker, api]) proc.logs.stop();
  assert.deepEqual(Object.values(exits), [0, 0, 0], JSON.stringify(exits));
  report.sigtermExitCodes = { consume: exits[consumer.name], work: exits[worker.name], api: exits[api.name] };
});

test('the saved archive is one containerd imports under the name the chart asks for', { timeout: 600_000 }, async () => {
  const logFile = path.join(path.resolve(base.stack.dir), 'logs', 'image.log');
  await ensureSystemPackages([{ binary: 'containerd', debianPackage: 'containerd' }, { binary: 'ctr', debianPackage: 'containerd' }], logFile, (l) => console.error(l));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lf-ctr-'));
  const archive = path.join(dir, 'image.tar');
  let containerd: ChildProcess | undefined;
  try {
    await saveImage(image.ref, archive);
    const socket = path.join(dir, 'containerd.sock');
    fs.writeFileSync(path.join(dir, 'config.toml'), [
      'version = 2', `root = "${dir}/root"`, `state = "${dir}/state"`,
      // Only the image store is needed: no CRI (it would want CNI), no other plugins' state.
      'disabled_plugins = ["io.containerd.grpc.v1.cri"]', '[grpc]', `  address = "${socket}"`, '',
    ].join('\n'));
    containerd = spawn('containerd', ['--config', path.join(dir, 'config.toml')], { stdio: ['ignore', 'ignore', 'pipe'] });
    await waitFor(() => fs.existsSync(socket), 30_000, 'containerd socket');
    const ctr = (args: string[]) => execFileSync('ctr', ['--address', socket, '--namespace', 'k8s.io', ...args], { encoding: 'utf8', timeout: 300_000 });
    ctr(['images', 'import', archive]);
    const names = ctr(['images', 'ls', '--quiet']).split('\n');
    assert.ok(names.includes(image.ref), `ctr images ls: ${names.join(' ')}`);
    report.archiveBytes = fs.statSync(archive).size;
  } finally {
    if (containerd && containerd.exitCode === null) {
      containerd.kill('SIGTERM');
      await new Promise((r) => containerd?.once('exit', r));
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

async function waitFor(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what} did not appear within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * docs/reports/image.json: the image's size and what this run proved, with the commit and machine;
 * its build in k8s-e2e.json too. Only when reports are asked for (see report.ts).
 */
function writeReport(): void {
  if (!REPORT_ENABLED) return;
  recordReport({ imageBuild: report });
  const git = (args: string[]) => execFileSync('git', args, { encoding: 'utf8' }).trim();
  const cpus = os.cpus();
  const out = {
    commit: git(['rev-parse', 'HEAD']),
    dirty: !treeCleanApartFromRunOutputs(),
    machine: { cpu: cpus[0]?.model, cores: cpus.length, memoryGiB: Math.round(os.totalmem() / 2 ** 30) },
    nodeVersion: NODE_VERSION,
    ...report,
  };
  fs.mkdirSync(path.join('docs', 'reports'), { recursive: true });
  fs.writeFileSync(path.join('docs', 'reports', 'image.json'), `${JSON.stringify(out, null, 2)}\n`);
}
