/**
 * skaffold on the project's own node, as docs/deploy.md ("skaffold on this machine") tells a user
 * of a machine without kind or any image registry: `skaffold run -p local-node` builds the image
 * with the project's podman build (skaffold's custom builder; podman's Docker API answers
 * skaffold's image inspection and tagging), its build hook imports the image into the node's
 * containerd, and its Helm 3 deployer installs the chart against the node's deps. The Deployments
 * become ready running exactly the image skaffold built (its tag, and the image id containerd
 * reports for each container), events produced from this machine verify exactly, and `skaffold
 * delete` leaves nothing of the release.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { loadConfig } from '../../src/config';
import { binaryPath, clusterDepsUp, clusterLayout, clusterUp, ensureBinaries, kubectl } from '../../src/cluster';
import { runCommand } from '../../src/cluster/exec';
import { PODMAN_GLOBAL_ARGS } from '../../src/image';
import { repoRoot } from '../../src/stack/layout';
import { K8S_TESTS_SKIP } from './helpers';
import { ensureDbSecret, helm, produce, RELEASE_NAMESPACE, releaseLeftovers, timeToReady, verifyAll } from './release';
import { recordReport } from './report';

const config = loadConfig();
const PROFILE = 'local-node';
/** The release skaffold.yaml's local-node profile installs. */
const RELEASE = 'ledgerflow';
const log = (line: string) => console.error(line);
const seed = Number(process.env.LF_K8S_SEED ?? Date.now() % 2 ** 31) + 7;

let dockerApi: { socket: string; child: ChildProcess; dir: string } | undefined;

after(async () => {
  if (!dockerApi) return;
  const { child, dir } = dockerApi;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const stopped = await Promise.race([exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 15_000))]);
  if (!stopped) child.kill('SIGKILL');
  fs.rmSync(dir, { recursive: true, force: true });
});

/** GET on the Docker API socket; resolves the status code, or 0 while nothing answers. */
function ping(socket: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get({ socketPath: socket, path: '/_ping', timeout: 2_000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve(0));
    req.on('timeout', () => req.destroy());
  });
}

/** podman's Docker-compatible API on a socket of this test's own, as docs/deploy.md starts it. */
async function startDockerApi(): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lf-skaffold-'));
  const socket = path.join(dir, 'podman.sock');
  const child = spawn('podman', [...PODMAN_GLOBAL_ARGS, 'system', 'service', '--time=0', `unix://${socket}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = `${stderr}${d.toString()}`.slice(-4000);
  });
  dockerApi = { socket, child, dir };
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`podman system service exited ${child.exitCode}: ${stderr}`);
    if ((await ping(socket)) === 200) return socket;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`podman's Docker API did not answer on ${socket} within 60 s: ${stderr}`);
}

/** skaffold from the repository root with the node's kubeconfig, Helm 3 and podman's Docker API. */
async function skaffold(args: string[], socket: string, timeoutMs: number): Promise<{ code: number; output: string; seconds: number }> {
  const helm3 = path.dirname(binaryPath(config, 'helm3'));
  const env = { ...process.env, PATH: `${helm3}:${process.env.PATH ?? ''}`, KUBECONFIG: clusterLayout(config).kubeconfig, DOCKER_HOST: `unix://${socket}`, SKAFFOLD_UPDATE_CHECK: 'false' };
  const t0 = Date.now();
  const r = await runCommand(binaryPath(config, 'skaffold'), [...args, '-p', PROFILE, '--interactive=false'], { env, cwd: repoRoot(), timeoutMs });
  const output = `${r.stdout}${r.stderr}`;
  log(`skaffold ${args[0]} (exit ${r.code}, ${((Date.now() - t0) / 1000).toFixed(0)} s):\n${output.trim()}`);
  return { code: r.code, output, seconds: (Date.now() - t0) / 1000 };
}

interface Deployment {
  metadata: { name: string };
  spec: { replicas: number; template: { spec: { containers: { image: string }[] } } };
  status: { readyReplicas?: number; conditions?: { type: string; status: string }[] };
}

test('skaffold run -p local-node builds, imports and deploys the image on the node; events verify; skaffold delete leaves nothing', { skip: K8S_TESTS_SKIP, timeout: 60 * 60_000 }, async () => {
  await ensureBinaries(config, ['skaffold', 'helm3'], log);
  await clusterUp(config, log);
  await clusterDepsUp(config, log);
  // The Secrets an operator creates before an install (docs/deploy.md); never in values.
  await ensureDbSecret(config);
  // A release left by an interrupted run (the node keeps etcd between runs) would make this an upgrade.
  await helm(config, 'helm3', ['uninstall', RELEASE, '-n', RELEASE_NAMESPACE, '--ignore-not-found', '--wait', '--timeout', '5m']);
  const socket = await startDockerApi();
  const version = (await runCommand(binaryPath(config, 'skaffold'), ['version'])).stdout.trim();

  // --cache-artifacts=false: skaffold's artifact cache would skip the build, and with it the
  // hook that imports the image, whenever the sources are unchanged (docs/deploy.md).
  const run = await skaffold(['run', '--cache-artifacts=false'], socket, 40 * 60_000);
  assert.equal(run.code, 0, `skaffold run failed:\n${run.output.slice(-6000)}`);
  // skaffold tags a build with its tag policy (here the git commit), then deploys it under
  // <name>:<image id> (a local, unpushed build).
  const built = /Generating tags\.\.\.\s*\n\s*- ledgerflow -> (\S+)/.exec(run.output)?.[1];
  const deployed = /Tags used in deployment:\s*\n\s*- ledgerflow -> (\S+)/.exec(run.output)?.[1];
  assert.ok(built && deployed, `skaffold printed no tags:\n${run.output.slice(-3000)}`);
  const inspect = await runCommand('podman', [...PODMAN_GLOBAL_ARGS, 'image', 'inspect', '--format', '{{.Id}}', built]);
  const imageId = inspect.stdout.trim();
  assert.match(imageId, /^[0-9a-f]{64}$/, `podman holds no image ${built}: ${inspect.stderr}`);
  assert.equal(deployed, `ledgerflow:${imageId}`, 'skaffold deploys its build under <name>:<image id>');

  const list = JSON.parse(await kubectl(config, ['-n', RELEASE_NAMESPACE, 'get', 'deployments', '-l', `app.kubernetes.io/instance=${RELEASE}`, '-o', 'json'])) as { items: Deployment[] };
  assert.deepEqual(list.items.map((d) => d.metadata.name).sort(), ['ledgerflow-api', 'ledgerflow-consumer', 'ledgerflow-worker']);
  for (const d of list.items) {
    assert.ok(d.status.conditions?.some((c) => c.type === 'Available' && c.status === 'True'), `${d.metadata.name} is not Available`);
    assert.equal(d.status.readyReplicas, d.spec.replicas, `${d.metadata.name}: ready replicas`);
    assert.deepEqual(d.spec.template.spec.containers.map((c) => c.image), [deployed], `${d.metadata.name} runs ${deployed}`);
  }
  // What containerd runs is that image: its id is the image's config digest, podman's image id.
  const pods = JSON.parse(await kubectl(config, ['-n', RELEASE_NAMESPACE, 'get', 'pods', '-l', `app.kubernetes.io/instance=${RELEASE}`, '--field-selector=status.phase=Running', '-o', 'json'])) as {
    items: { metadata: { name: string }; status: { containerStatuses?: { imageID: string; ready: boolean }[] } }[];
  };
  assert.equal(pods.items.length, 3, 'one running pod per Deployment');
  for (const p of pods.items) {
    for (const c of p.status.containerStatuses ?? []) assert.equal(c.imageID.replace(/^.*sha256:/, ''), imageId, `${p.metadata.name} runs image ${c.imageID}`);
  }
  const ready = await timeToReady(config);

  const sent = await produce(config, { count: 5_000, rate: 1_000, seed });
  const report = await verifyAll(config);
  assert.ok(report.ok, JSON.stringify(report));
  assert.equal(report.missing, 0);
  assert.equal(report.duplicated, 0);
  assert.equal(report.balanceMismatches, 0);
  assert.ok(report.stored >= sent.sent, `stored ${report.stored} >= sent ${sent.sent}`);

  const del = await skaffold(['delete'], socket, 10 * 60_000);
  assert.equal(del.code, 0, `skaffold delete failed:\n${del.output.slice(-4000)}`);
  const releases = await helm(config, 'helm3', ['list', '-n', RELEASE_NAMESPACE, '-a', '-q']);
  assert.ok(!releases.split('\n').includes(RELEASE), `helm still lists ${RELEASE}: ${releases}`);
  // skaffold's helm uninstall does not wait for the pods' graceful drain: counted once they are gone.
  assert.deepEqual(await releaseLeftovers(config, 300_000, RELEASE), [], 'skaffold delete left objects of the release behind');
  recordReport({
    skaffold: {
      version, profile: PROFILE, builtTag: built, deployedTag: `ledgerflow:${imageId.slice(0, 12)}…`,
      runSeconds: Math.round(run.seconds), deleteSeconds: Math.round(del.seconds), timeToReadySeconds: ready,
      events: report.produced, lost: report.missing, duplicated: report.duplicated, balanceMismatches: report.balanceMismatches,
    },
  });
});
