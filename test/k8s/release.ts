import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { Config, loadConfig } from '../../src/config';
import { binaryPath, clusterLayout, depsSettings, ensureBinaries, kubectl } from '../../src/cluster';
import { mustRun, runCommand } from '../../src/cluster/exec';
import { newCredential, renderKeySet } from '../../src/domain/credentials';
import { buildImage, saveImage } from '../../src/image';
import { startProducer } from '../../src/producer';
import { repoRoot } from '../../src/stack/layout';
import { createLogger } from '../../src/telemetry/log';
import { verify, VerifyReport } from '../../src/verify';
import { askUntil } from './helpers';

/** The Helm release on the local node: values, helm runs, load and verification against the node's deps. */

export const RELEASE_NAMESPACE = 'ledgerflow';
export const CHART = path.join(repoRoot(), 'charts', 'ledgerflow');

export type HelmMajor = 'helm3' | 'helm4';

export interface ReleaseImage {
  archive: string;
  repository: string;
  tag: string;
  sizeBytes?: number;
}

/**
 * The release's image: the repository's Dockerfile built here (podman's layer cache makes this
 * seconds once image.test.ts has built it) and saved once per image id for containerd's import; or
 * an archive given as LF_K8S_IMAGE_ARCHIVE, named LF_K8S_IMAGE (repository:tag).
 */
export async function releaseImage(config: Config): Promise<ReleaseImage> {
  const given = process.env.LF_K8S_IMAGE_ARCHIVE;
  const split = (ref: string) => {
    const [repository = '', tag = ''] = ref.split(/:(?=[^:/]+$)/);
    return { repository, tag };
  };
  if (given) return { archive: given, ...split(process.env.LF_K8S_IMAGE ?? 'localhost/ledgerflow:dev') };
  const image = await buildImage(config, { log: (line) => console.error(line) });
  const dir = path.join(clusterLayout(config).root, 'images');
  const archive = path.join(dir, `ledgerflow-${image.id.replace(/^sha256:/, '').slice(0, 12)}.tar`);
  if (!fs.existsSync(archive)) {
    // One archive at a time: older builds' archives are of no further use.
    fs.rmSync(dir, { recursive: true, force: true });
    await saveImage(image.ref, archive);
  }
  return { archive, ...split(image.ref), sizeBytes: image.sizeBytes };
}

/** Settings of a process on this machine that uses the node's Kafka, Temporal and MariaDB. */
export function depsConfig(config: Config): Config {
  return loadConfig({ 'log.level': 'warn' }, { ...process.env, ...depsSettings(config) });
}

/**
 * The node's values (charts/ledgerflow/ci/local-node-values.yaml, which skaffold's local-node profile
 * deploys with too): external deps by their in-cluster Services, small requests; and the local image.
 */
export const NODE_VALUES_FILE = path.join(CHART, 'ci', 'local-node-values.yaml');

export function releaseValues(image: { repository: string; tag: string }, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const node = YAML.parse(fs.readFileSync(NODE_VALUES_FILE, 'utf8')) as Record<string, unknown>;
  return {
    ...node,
    image: { repository: image.repository, tag: image.tag, pullPolicy: 'Never' },
    tests: { apiToken: { existingSecret: TEST_TOKEN_SECRET } },
    ...extra,
  };
}

/** The Secret holding a bearer token of scope read, for `helm test` (tests.apiToken.existingSecret). */
export const TEST_TOKEN_SECRET = 'ledgerflow-test-token';

/**
 * The Secrets the chart expects before an install, made as docs/deploy.md tells an operator: the
 * database passwords of the node's deps stack, and the api's key set (a read credential whose token
 * `helm test` uses, kept in a Secret of its own). Never in values.
 */
export async function ensureDbSecret(config: Config): Promise<void> {
  const secrets = path.join(depsSettings(config).LF_STACK_DIR as string, 'secrets');
  const read = (f: string) => fs.readFileSync(path.join(secrets, f), 'utf8').trim();
  await kubectl(config, ['create', 'namespace', RELEASE_NAMESPACE]).catch(() => undefined);
  const reader = newCredential('helm-test', ['read']);
  const manifest = {
    apiVersion: 'v1',
    kind: 'List',
    items: [
      secret('ledgerflow-db', { 'app-password': read('db-app.password'), 'migration-password': read('db-migrate.password') }),
      secret('ledgerflow-api-keys', { 'keys.json': renderKeySet({ keys: [reader.credential] }) }),
      secret(TEST_TOKEN_SECRET, { token: reader.token }),
    ],
  };
  await kubectl(config, ['apply', '-f', '-'], { input: JSON.stringify(manifest) });
}

function secret(name: string, stringData: Record<string, string>) {
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: RELEASE_NAMESPACE }, type: 'Opaque', stringData };
}

/** helm with the node's kubeconfig and a private home (no user repositories, plugins or cache). */
export async function helm(config: Config, major: HelmMajor, args: string[], timeoutMs = 15 * 60_000): Promise<string> {
  await ensureBinaries(config, [major], (l) => console.error(l));
  const layout = clusterLayout(config);
  const home = path.join(layout.root, `${major}-home`);
  return mustRun(binaryPath(config, major), ['--kubeconfig', layout.kubeconfig, ...args], {
    timeoutMs,
    env: { ...process.env, HELM_CONFIG_HOME: path.join(home, 'config'), HELM_CACHE_HOME: path.join(home, 'cache'), HELM_DATA_HOME: path.join(home, 'data') },
    what: `${major} ${args.join(' ')}`,
  });
}

export function writeValues(config: Config, name: string, values: Record<string, unknown>): string {
  const file = path.join(clusterLayout(config).root, `values-${name}.json`);
  fs.writeFileSync(file, `${JSON.stringify(values, null, 2)}\n`);
  return file;
}

/** Produces `count` events from this machine into the node's Kafka; resolves the producer's report. */
export async function produce(config: Config, opts: { count: number; rate: number; seed: number; accounts?: number }) {
  const deps = depsConfig(config);
  const producer = await startProducer(
    deps,
    { ratePerSec: opts.rate, count: opts.count, accounts: opts.accounts ?? 2_000, seed: opts.seed, malformedRatio: 0.01, serveMetrics: false, prepare: false },
    createLogger('warn', 'k8s-test-producer'),
  );
  return producer.done;
}

export function verifyAll(config: Config, waitMs = 10 * 60_000): Promise<VerifyReport> {
  return verify(depsConfig(config), { waitMs }, createLogger('warn', 'k8s-test-verify'));
}

/** Seconds from each Deployment's creation to its Available condition. */
export async function timeToReady(config: Config): Promise<Record<string, number>> {
  const out = JSON.parse(await kubectl(config, ['-n', RELEASE_NAMESPACE, 'get', 'deployments', '-o', 'json'])) as {
    items: { metadata: { name: string; creationTimestamp: string }; status: { conditions?: { type: string; status: string; lastTransitionTime: string }[] } }[];
  };
  const times: Record<string, number> = {};
  for (const d of out.items) {
    const available = d.status.conditions?.find((c) => c.type === 'Available' && c.status === 'True');
    if (available) times[d.metadata.name] = (Date.parse(available.lastTransitionTime) - Date.parse(d.metadata.creationTimestamp)) / 1000;
  }
  return times;
}

/**
 * Everything of a release (`instance`; by default of any release) left in its namespace (Secrets
 * of our own excluded), once the pods the uninstall deleted have finished their graceful drain
 * (the garbage collector deletes them after their Deployments, and a consumer drains in-flight
 * batches first): asked until nothing is left or `waitMs` has passed, then the leftovers as they are.
 */
export function releaseLeftovers(config: Config, waitMs = 300_000, instance?: string): Promise<string[]> {
  return askUntil(() => releaseObjects(config, instance), (left) => left.length === 0, waitMs);
}

async function releaseObjects(config: Config, instance?: string): Promise<string[]> {
  const r = await runCommand(binaryPath(config, 'kubernetes', 'kubectl'), [
    '--kubeconfig', clusterLayout(config).kubeconfig, '-n', RELEASE_NAMESPACE, 'get',
    'all,configmaps,secrets,serviceaccounts,networkpolicies,poddisruptionbudgets,jobs,horizontalpodautoscalers', '-l', instance ? `app.kubernetes.io/instance=${instance}` : 'app.kubernetes.io/instance', '-o', 'name',
  ]);
  return r.stdout.split('\n').filter(Boolean);
}

/** Installs release `lf` afresh with Helm 4 (migration hook included) and waits for every Deployment. */
export async function installRelease(config: Config, image: { repository: string; tag: string }, extra: Record<string, unknown> = {}): Promise<void> {
  const values = writeValues(config, 'scenario', releaseValues(image, extra));
  await removeLeftoverRelease(config);
  await helm(config, 'helm4', ['upgrade', '--install', 'lf', CHART, '-n', RELEASE_NAMESPACE, '-f', values, '--wait', '--timeout', '15m']);
}

export async function uninstallRelease(config: Config): Promise<void> {
  await helm(config, 'helm4', ['uninstall', 'lf', '-n', RELEASE_NAMESPACE, '--wait', '--timeout', '5m']);
}

/**
 * No release `lf` from an earlier, interrupted run (the node keeps its etcd data between runs): one
 * left pending-install or pending-upgrade would refuse every install and upgrade of this run.
 */
export async function removeLeftoverRelease(config: Config): Promise<void> {
  await helm(config, 'helm4', ['uninstall', 'lf', '-n', RELEASE_NAMESPACE, '--ignore-not-found', '--wait', '--timeout', '5m']);
}

/** Scales a Deployment and waits until every replica is ready. */
export async function scaleTo(config: Config, deployment: string, replicas: number): Promise<void> {
  await kubectl(config, ['-n', RELEASE_NAMESPACE, 'scale', `deployment/${deployment}`, `--replicas=${replicas}`]);
  await kubectl(config, ['-n', RELEASE_NAMESPACE, 'rollout', 'status', `deployment/${deployment}`, '--timeout=600s'], { timeoutMs: 620_000 });
}

/** Running pods of one component of release `lf`. */
export async function componentPods(config: Config, component: string): Promise<string[]> {
  const out = await kubectl(config, ['-n', RELEASE_NAMESPACE, 'get', 'pods', '-l', `app.kubernetes.io/instance=lf,app.kubernetes.io/component=${component}`, '--field-selector=status.phase=Running', '-o', 'jsonpath={.items[*].metadata.name}']);
  return out.split(' ').filter(Boolean);
}

/** SIGKILLs the main process of a pod's container, as the kernel's OOM killer or a crash would. */
export async function killContainer(config: Config, pod: string): Promise<void> {
  const layout = clusterLayout(config);
  const crictl = (args: string[]) => mustRun(binaryPath(config, 'crictl'), ['--runtime-endpoint', `unix://${layout.containerdSocket}`, ...args]);
  const ids = (await crictl(['ps', '-q', '--pod', (await crictl(['pods', '-q', '--name', `^${pod}$`])).trim().split('\n')[0] ?? 'none'])).trim().split('\n').filter(Boolean);
  for (const id of ids) {
    const pid = (JSON.parse(await crictl(['inspect', id])) as { info?: { pid?: number } }).info?.pid;
    if (pid) process.kill(pid, 'SIGKILL');
  }
}
