import { execFile } from 'node:child_process';
import { LedgerflowError } from '../domain/errors';
import { ensureSystemPackages, type SystemPackage } from '../stack/install';

/**
 * podman, the way it works on the machines this project runs on (docs/decisions/017-image-runtime-base.md): Debian's
 * podman 4.3 with runc (crun fails on hosts with hybrid v1/v2 cgroups), and container limits that
 * stay within the host's own (podman's defaults ask for more open files than such a host allows).
 */
export const PODMAN_GLOBAL_ARGS = ['--runtime', 'runc'];
export const CONTAINER_LIMIT_ARGS = ['--ulimit', 'nofile=20000:20000', '--ulimit', 'nproc=4096:4096'];

/** What building the image and its local base stand-ins needs on the host. */
export const IMAGE_TOOLS: SystemPackage[] = [
  { binary: 'podman', debianPackage: 'podman' },
  { binary: 'runc', debianPackage: 'runc' },
  { binary: 'mmdebstrap', debianPackage: 'mmdebstrap' },
  { binary: 'dpkg-deb', debianPackage: 'dpkg' },
];

export function ensureImageTools(logFile: string, log: (line: string) => void): Promise<void> {
  return ensureSystemPackages(IMAGE_TOOLS, logFile, log);
}

/** Runs podman and returns its stdout; a failure is LF_IMAGE with podman's own last words. */
export function podman(args: string[], opts: { timeoutMs?: number } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('podman', [...PODMAN_GLOBAL_ARGS, ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: opts.timeoutMs ?? 600_000 }, (err, stdout, stderr) => {
      if (!err) return resolve(stdout);
      const why = stderr.trim().split('\n').slice(-3).join(' | ') || err.message;
      reject(new LedgerflowError('LF_IMAGE', `podman ${args.slice(0, 2).join(' ')} failed: ${why}`, args));
    });
  });
}

export async function imageExists(ref: string): Promise<boolean> {
  try {
    await podman(['image', 'exists', ref]);
    return true;
  } catch {
    return false;
  }
}

export interface ImageFacts {
  id: string;
  sizeBytes: number;
}

export async function inspectImage(ref: string): Promise<ImageFacts> {
  const [facts] = JSON.parse(await podman(['image', 'inspect', ref])) as Array<{ Id: string; Size: number }>;
  if (!facts) throw new LedgerflowError('LF_IMAGE', `podman image inspect ${ref}: no such image`, ref);
  return { id: `sha256:${facts.Id.replace(/^sha256:/, '')}`, sizeBytes: facts.Size };
}

/** Every name (repository:tag) the image `ref` has in podman's storage, `ref` first. */
export async function imageNames(ref: string): Promise<string[]> {
  const [facts] = JSON.parse(await podman(['image', 'inspect', ref])) as Array<{ RepoTags?: string[] | null }>;
  if (!facts) throw new LedgerflowError('LF_IMAGE', `podman image inspect ${ref}: no such image`, ref);
  return [ref, ...(facts.RepoTags ?? []).filter((name) => name !== ref)];
}

/**
 * Tags `tmpRef` as `ref` and drops the temporary name: concurrent builders of the same stand-in
 * each finish under a name of their own, and the shared name always points at a complete image.
 */
export async function publishTag(tmpRef: string, ref: string): Promise<void> {
  await podman(['tag', tmpRef, ref]);
  await podman(['untag', tmpRef, tmpRef]);
}
