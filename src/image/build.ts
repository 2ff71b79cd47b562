import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../config';
import { LedgerflowError } from '../domain/errors';
import { runStep } from '../stack/install';
import { repoRoot } from '../stack/layout';
import { ensureStandInBases, imageDirs } from './bases';
import { CONTAINER_LIMIT_ARGS, PODMAN_GLOBAL_ARGS, ensureImageTools, inspectImage, podman } from './podman';
import { BASE_IMAGE_ARGS, normalizeImageRef, upstreamBaseImages, type BaseImages } from './refs';

export interface BuildImageOptions {
  /** name[:tag]; default `ledgerflow:<package version>` (the chart's image.repository and appVersion). */
  tag?: string;
  /** Build FROM the Dockerfile's upstream defaults (pulled from their registries) instead of the local stand-ins. */
  upstreamBases?: boolean;
  log?: (line: string) => void;
}

export interface BuiltImage {
  /** Fully qualified, as a Kubernetes node resolves the chart's image (docker.io/library/ledgerflow:0.1.0). */
  ref: string;
  /** sha256:… image id. */
  id: string;
  sizeBytes: number;
  /** The image build alone (podman build), without the stand-ins. */
  buildSeconds: number;
  /** The base images it was built FROM. */
  bases: BaseImages;
  /** Seconds spent making stand-ins in this call (0 when they were cached or upstream bases were used). */
  standInSeconds: number;
}

export function defaultImageTag(): string {
  const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot(), 'package.json'), 'utf8')) as { version: string };
  return `ledgerflow:${pkg.version}`;
}

/**
 * `podman build` of the repository's Dockerfile. Layers are cached by podman, npm's downloads by
 * the Dockerfile's cache mount; a rebuild with unchanged sources takes seconds.
 */
export async function buildImage(config: Config, opts: BuildImageOptions = {}): Promise<BuiltImage> {
  const log = opts.log ?? (() => undefined);
  const ref = normalizeImageRef(opts.tag ?? defaultImageTag());
  const root = repoRoot();
  const { logFile } = imageDirs(config);
  await ensureImageTools(logFile, log);
  let bases = upstreamBaseImages(path.join(root, 'Dockerfile'));
  let standInSeconds = 0;
  if (!opts.upstreamBases) {
    const standIns = await ensureStandInBases(config, log);
    bases = standIns.images;
    if (standIns.built.length > 0) standInSeconds = standIns.seconds;
  }
  const args = [
    ...PODMAN_GLOBAL_ARGS, 'build', '--layers', ...CONTAINER_LIMIT_ARGS,
    ...BASE_IMAGE_ARGS.flatMap((arg) => (opts.upstreamBases ? [] : ['--build-arg', `${arg}=${bases[arg]}`])),
    ...(caSecretFile(config) ? ['--secret', `id=npm-ca,src=${caSecretFile(config)}`] : []),
    '--tag', ref, '--file', path.join(root, 'Dockerfile'), root,
  ];
  log(`image: podman build ${ref} FROM ${bases.BUILD_IMAGE} / ${bases.RUNTIME_IMAGE} (log ${logFile})`);
  const t0 = process.hrtime.bigint();
  try {
    await runStep('podman', args, { step: `podman build ${ref}`, logFile, cwd: root });
  } catch (err) {
    const pullError = /^Error: .*(pull|registry|manifest|dial tcp|lookup).*$/im.exec((err as Error).message)?.[0];
    if (opts.upstreamBases && pullError) {
      throw new LedgerflowError('LF_IMAGE', `the upstream base images could not be pulled (${pullError}); without a reachable registry, build with the local stand-ins (no --upstream-bases)`, bases);
    }
    throw err;
  }
  const buildSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const facts = await inspectImage(ref);
  return { ref, ...facts, buildSeconds, bases, standInSeconds };
}

/** The CA bundle npm trusts inside the build (image.caFile), when there is one. */
function caSecretFile(config: Config): string | undefined {
  const file = config.image.caFile;
  return file && fs.existsSync(file) ? path.resolve(file) : undefined;
}

/**
 * Writes the image as a docker-archive tar: what `ctr -n k8s.io images import` (containerd, the
 * kubelet's runtime) and `docker load` accept. The archive keeps the fully qualified name, so the
 * imported image is the one the chart's image.repository names. Several names of one image are
 * written once, under all of them (podman's multi-image archive).
 */
export async function saveImage(ref: string | string[], file: string): Promise<void> {
  const names = (Array.isArray(ref) ? ref : [ref]).map(normalizeImageRef);
  if (names.length === 0) throw new LedgerflowError('LF_IMAGE', 'image save needs at least one image name');
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.rmSync(tmp, { force: true });
  try {
    await podman(['save', ...(names.length > 1 ? ['--multi-image-archive'] : []), '--format', 'docker-archive', '--output', tmp, ...names]);
    fs.renameSync(tmp, file);
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}
