import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Config } from '../config';
import { LedgerflowError } from '../domain/errors';
import { binaryPath, componentSource, ensureBinaries } from './binaries';
import { mustRun } from './exec';
import { ensureNodeImages, importNodeImages, KEDA_IMAGES, KEDA_METRICS_APISERVER_IMAGE, KEDA_OPERATOR_IMAGE } from './images';
import { clusterLayout, KEDA_VERSION } from './layout';

/**
 * KEDA on the node, on request: built from the Go module proxy (github.com/kedacore/keda/v2, the
 * operator and the external-metrics API server), run from locally built images, deployed from the
 * module's own `config/minimal` (upstream's install without the admission webhooks) rendered by
 * kubectl's kustomize with an overlay that only renames the images and never pulls them. The operator
 * makes its own certificates (`--enable-cert-rotation`) and puts the CA into the APIService. See
 * docs/decisions/029-keda-on-the-node.md.
 */

export const KEDA_NAMESPACE = 'keda';
export const KEDA_DEPLOYMENTS = ['keda-operator', 'keda-metrics-apiserver'] as const;
export const KEDA_APISERVICE = 'v1beta1.external.metrics.k8s.io';
/** Objects KEDA made that hold its finalizer: removed while the operator still runs. */
const KEDA_RESOURCES = 'scaledobjects.keda.sh,scaledjobs.keda.sh';

type Kubectl = (args: string[], opts?: { input?: string; timeoutMs?: number }) => Promise<string>;

const upstreamImage = (name: string) => name.replace(/^localhost\/ledgerflow\//, 'ghcr.io/kedacore/').replace(/:[^:/]+$/, '');
const splitImage = (name: string) => {
  const at = name.lastIndexOf(':');
  return { newName: name.slice(0, at), newTag: name.slice(at + 1) };
};

/** The overlay on upstream's minimal install: local images, never pulled; the version and who applied it as labels. */
export function kedaKustomization(minimalDir: string): Record<string, unknown> {
  const neverPull = [{ op: 'replace', path: '/spec/template/spec/containers/0/imagePullPolicy', value: 'Never' }];
  return {
    apiVersion: 'kustomize.config.k8s.io/v1beta1',
    kind: 'Kustomization',
    resources: [minimalDir],
    images: [KEDA_OPERATOR_IMAGE, KEDA_METRICS_APISERVER_IMAGE].map((image) => ({ name: upstreamImage(image), ...splitImage(image) })),
    labels: [{ pairs: { 'app.kubernetes.io/version': KEDA_VERSION.replace(/^v/, ''), 'app.kubernetes.io/managed-by': 'ledgerflow-cluster' } }],
    patches: KEDA_DEPLOYMENTS.map((name) => ({ target: { kind: 'Deployment', name }, patch: JSON.stringify(neverPull) })),
  };
}

/** Builds (once, cached per user) KEDA's binaries and images. */
export async function kedaInstall(config: Config, log: (line: string) => void): Promise<string[]> {
  await ensureBinaries(config, ['keda'], log);
  return ensureNodeImages(config, log, KEDA_IMAGES);
}

/** The manifest: upstream's config/minimal of the built version with the overlay, as kubectl's kustomize renders it. */
export async function kedaManifest(config: Config): Promise<string> {
  const minimal = path.join(componentSource(config, 'keda'), 'config', 'minimal');
  if (!fs.existsSync(path.join(minimal, 'kustomization.yaml'))) {
    throw new LedgerflowError('LF_CLUSTER', `KEDA's source (${minimal}) is not in the cache: run \`ledgerflow cluster install keda\``);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lf-keda-'));
  try {
    // kustomize takes only relative paths to other kustomizations; JSON is YAML.
    fs.writeFileSync(path.join(dir, 'kustomization.yaml'), `${JSON.stringify(kedaKustomization(path.relative(dir, minimal)), null, 2)}\n`);
    return await mustRun(binaryPath(config, 'kubernetes', 'kubectl'), ['kustomize', dir], { what: 'kubectl kustomize (KEDA config/minimal)' });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Installs KEDA on the running node (building it first if the cache lacks it) and waits until both
 * Deployments are available and the external metrics API answers. Idempotent.
 */
export async function kedaUp(config: Config, log: (line: string) => void, kubectl: Kubectl): Promise<void> {
  const t0 = Date.now();
  await importNodeImages(config, await kedaInstall(config, log), KEDA_IMAGES);
  await kubectl(['apply', '--server-side', '--force-conflicts', '--field-manager=ledgerflow-cluster', '-f', '-'], { input: await kedaManifest(config), timeoutMs: 180_000 });
  for (const d of KEDA_DEPLOYMENTS) {
    await kubectl(['-n', KEDA_NAMESPACE, 'rollout', 'status', `deployment/${d}`, '--timeout=300s'], { timeoutMs: 320_000 });
  }
  // The metrics server waits for the certificates the operator makes; the API server then needs their CA.
  await kubectl(['wait', '--for=condition=Available', `apiservice/${KEDA_APISERVICE}`, '--timeout=300s'], { timeoutMs: 320_000 });
  log(`cluster: KEDA ${KEDA_VERSION} up in ${((Date.now() - t0) / 1000).toFixed(1)} s (${KEDA_DEPLOYMENTS.join(', ')}; ${KEDA_APISERVICE} available)`);
}

/** Whether the node serves KEDA's ScaledObject. */
export async function kedaServed(kubectl: Kubectl): Promise<boolean> {
  const out = await kubectl(['api-resources', '--api-group=keda.sh', '-o', 'name']).catch(() => '');
  return out.split('\n').includes('scaledobjects.keda.sh');
}

/**
 * Removes KEDA and everything it made: first the ScaledObjects and ScaledJobs while the operator can
 * still remove its finalizer from them (their HPAs go with them), then every object of the manifest.
 */
export async function kedaDown(config: Config, log: (line: string) => void, kubectl: Kubectl): Promise<void> {
  const t0 = Date.now();
  if (await kedaServed(kubectl)) {
    await kubectl(['delete', KEDA_RESOURCES, '--all', '--all-namespaces', '--wait=true', '--timeout=180s'], { timeoutMs: 200_000 });
  }
  await kubectl(['delete', '--ignore-not-found', '--wait=true', '--timeout=180s', '-f', '-'], { input: await kedaManifest(config), timeoutMs: 200_000 });
  log(`cluster: KEDA removed in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}
