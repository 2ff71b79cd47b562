import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Config } from '../config';
import { LedgerflowError } from '../domain/errors';
import { ensureDir } from '../stack/layout';
import { requireBinary } from '../stack/install';
import { binaryPath } from './binaries';
import { mustRun, runCommand } from './exec';
import { clusterLayout, ClusterLayout, COREDNS_VERSION, KEDA_VERSION, KUBERNETES_VERSION, METRICS_SERVER_VERSION, PAUSE_VERSION } from './layout';

/**
 * The node's images, built here because no image registry is reachable: each is a scratch image
 * (no base image to pull) holding one static binary, built with podman, saved as an archive in the
 * per-user cache and imported into the node's containerd. Nothing is ever pulled: the pods use
 * imagePullPolicy Never/IfNotPresent with these names.
 */

export const PAUSE_IMAGE = `localhost/ledgerflow/pause:${PAUSE_VERSION}`;
export const COREDNS_IMAGE = `localhost/ledgerflow/coredns:${COREDNS_VERSION}`;
export const METRICS_SERVER_IMAGE = `localhost/ledgerflow/metrics-server:${METRICS_SERVER_VERSION}`;
/** Debian's static busybox: a shell, nslookup, wget and nc for the cluster's own tests. */
export const TOOLBOX_IMAGE = 'localhost/ledgerflow/toolbox:1';
/** KEDA's operator and its external-metrics API server, named as upstream names them (without the v). */
export const KEDA_OPERATOR_IMAGE = `localhost/ledgerflow/keda:${KEDA_VERSION.replace(/^v/, '')}`;
export const KEDA_METRICS_APISERVER_IMAGE = `localhost/ledgerflow/keda-metrics-apiserver:${KEDA_VERSION.replace(/^v/, '')}`;

export interface LocalImage {
  name: string;
  /** Files of the image: path inside the image → file on this machine. */
  files(config: Config, work: string): Promise<Record<string, string>>;
  entrypoint: string[];
  /** Numeric user the image runs as (the components need no root). */
  user: string;
  /** Built binaries the image holds: a rebuilt binary rebuilds the image. */
  sources?(config: Config): string[];
}

/** The images every node has. */
const NODE_IMAGES: LocalImage[] = [
  {
    name: PAUSE_IMAGE,
    // Upstream's pause.c, from the Kubernetes module the node's binaries are built from.
    files: async (config, work) => {
      const source = path.join(clusterLayout(config).cacheRoot, 'src', `kubernetes-${KUBERNETES_VERSION}`, 'build', 'pause', 'linux', 'pause.c');
      const gcc = requireBinary('gcc', 'building the pause image');
      const out = path.join(work, 'pause');
      await mustRun(gcc, ['-Os', '-static', '-Wall', `-DVERSION=v${PAUSE_VERSION}-ledgerflow`, '-o', out, source], { what: 'gcc pause.c' });
      await mustRun('strip', [out]);
      return { '/pause': out };
    },
    entrypoint: ['/pause'],
    user: '65535',
  },
  {
    name: COREDNS_IMAGE,
    files: async (config) => ({ '/coredns': binaryPath(config, 'coredns') }),
    sources: (config) => [binaryPath(config, 'coredns')],
    entrypoint: ['/coredns'],
    user: '65532',
  },
  {
    name: METRICS_SERVER_IMAGE,
    files: async (config) => ({ '/metrics-server': binaryPath(config, 'metrics-server') }),
    sources: (config) => [binaryPath(config, 'metrics-server')],
    entrypoint: ['/metrics-server'],
    user: '65532',
  },
  {
    name: TOOLBOX_IMAGE,
    files: async () => ({ '/bin/busybox': requireBinary('busybox', 'building the toolbox image') }),
    entrypoint: ['/bin/busybox'],
    user: '65532',
  },
];

/**
 * KEDA's two images, built only when KEDA is asked for (`cluster install keda`): the entrypoints are
 * upstream's (/keda, /keda-adapter), so upstream's manifests run them unchanged.
 */
export const KEDA_IMAGES: LocalImage[] = [
  {
    name: KEDA_OPERATOR_IMAGE,
    files: async (config) => ({ '/keda': binaryPath(config, 'keda', 'operator') }),
    sources: (config) => [binaryPath(config, 'keda', 'operator')],
    entrypoint: ['/keda'],
    user: '65532',
  },
  {
    name: KEDA_METRICS_APISERVER_IMAGE,
    files: async (config) => ({ '/keda-adapter': binaryPath(config, 'keda', 'adapter') }),
    sources: (config) => [binaryPath(config, 'keda', 'adapter')],
    entrypoint: ['/keda-adapter'],
    user: '65532',
  },
];

const archiveOf = (layout: ClusterLayout, name: string) => path.join(layout.images, `${name.replace(/^localhost\//, '').replace(/[/:]/g, '_')}.tar`);

/** Builds the archives the cache does not hold yet (the node's own images unless told which). */
export async function ensureNodeImages(config: Config, log: (line: string) => void, images: LocalImage[] = NODE_IMAGES): Promise<string[]> {
  const layout = clusterLayout(config);
  const archives: string[] = [];
  for (const image of images) {
    const archive = archiveOf(layout, image.name);
    archives.push(archive);
    if (fs.existsSync(archive) && !(image.sources?.(config) ?? []).some((s) => fs.statSync(s).mtimeMs > fs.statSync(archive).mtimeMs)) continue;
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'lf-image-'));
    try {
      const files = await image.files(config, work);
      await buildScratchImage(image, files, work, archive);
      log(`cluster: built image ${image.name} (${(fs.statSync(archive).size / 1e6).toFixed(1)} MB)`);
    } finally {
      fs.rmSync(work, { recursive: true, force: true });
    }
  }
  return archives;
}

async function buildScratchImage(image: LocalImage, files: Record<string, string>, work: string, archive: string): Promise<void> {
  const podman = requireBinary('podman', 'building the node images');
  const context = ensureDir(path.join(work, 'context'));
  const copies: string[] = [];
  for (const [target, source] of Object.entries(files)) {
    const local = path.join(context, 'rootfs', target);
    ensureDir(path.dirname(local));
    fs.copyFileSync(source, local);
    fs.chmodSync(local, 0o755);
    copies.push(target);
  }
  if (image.name === TOOLBOX_IMAGE) {
    // busybox runs the applet its link is named after.
    const applets = (await mustRun(files['/bin/busybox'] as string, ['--list'])).split('\n').filter((a) => /^[a-z0-9_.[-]+$/.test(a) && a !== 'busybox');
    for (const applet of applets) fs.symlinkSync('busybox', path.join(context, 'rootfs', 'bin', applet));
  }
  fs.writeFileSync(
    path.join(context, 'Containerfile'),
    ['FROM scratch', 'COPY rootfs/ /', `USER ${image.user}`, `ENTRYPOINT ${JSON.stringify(image.entrypoint)}`, ''].join('\n'),
  );
  await mustRun(podman, ['build', '--quiet', '--timestamp', '0', '-t', image.name, '-f', path.join(context, 'Containerfile'), context], { timeoutMs: 600_000 });
  ensureDir(path.dirname(archive));
  const tmp = `${archive}.tmp-${process.pid}`;
  fs.rmSync(tmp, { force: true });
  await mustRun(podman, ['save', '--format', 'docker-archive', '-o', tmp, image.name], { timeoutMs: 600_000 });
  fs.renameSync(tmp, archive);
  // The archive is the cache; the shared podman store keeps nothing of it.
  await runCommand(podman, ['rmi', '--force', image.name]);
}

/** Images present in the node's containerd (the CRI's namespace). */
export async function nodeImages(layout: ClusterLayout): Promise<string[]> {
  const out = await mustRun('ctr', ['--address', layout.containerdSocket, '-n', 'k8s.io', 'images', 'ls', '-q']);
  return out.split('\n').filter(Boolean);
}

/** Imports an image archive (docker-archive or OCI) into the node's containerd. */
export async function importImage(layout: ClusterLayout, archive: string): Promise<void> {
  if (!fs.existsSync(archive)) throw new LedgerflowError('LF_CLUSTER', `image archive ${archive} does not exist`, archive);
  await mustRun('ctr', ['--address', layout.containerdSocket, '-n', 'k8s.io', 'images', 'import', archive], { timeoutMs: 600_000, what: `ctr images import ${archive}` });
}

/** Imports every image (the node's own unless told which) that containerd does not hold yet. */
export async function importNodeImages(config: Config, archives: string[], images: LocalImage[] = NODE_IMAGES): Promise<void> {
  const layout = clusterLayout(config);
  const present = new Set(await nodeImages(layout));
  for (const [i, image] of images.entries()) {
    if (!present.has(image.name)) await importImage(layout, archives[i] as string);
  }
}
