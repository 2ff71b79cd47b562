import fs from 'node:fs';
import path from 'node:path';
import { LedgerflowError } from '../domain/errors';

/** Image references and the Dockerfile's base-image arguments: pure, no podman. */

/** The build arguments that choose the base images; their defaults in the Dockerfile are the upstream images. */
export const BASE_IMAGE_ARGS = ['BUILD_IMAGE', 'RUNTIME_IMAGE'] as const;
export type BaseImageArg = (typeof BASE_IMAGE_ARGS)[number];
export type BaseImages = Record<BaseImageArg, string>;

/** The `ARG NAME=default` values of the Dockerfile: the one place the upstream base images are named. */
export function dockerfileArgDefaults(dockerfile: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of dockerfile.matchAll(/^ARG\s+([A-Z0-9_]+)=(\S+)\s*$/gm)) out[m[1] as string] = m[2] as string;
  return out;
}

export function upstreamBaseImages(dockerfilePath: string): BaseImages {
  const defaults = dockerfileArgDefaults(fs.readFileSync(dockerfilePath, 'utf8'));
  const missing = BASE_IMAGE_ARGS.filter((a) => !defaults[a]);
  if (missing.length > 0) throw new LedgerflowError('LF_IMAGE', `${path.basename(dockerfilePath)} has no default for ARG ${missing.join(', ')}`);
  return { BUILD_IMAGE: defaults.BUILD_IMAGE as string, RUNTIME_IMAGE: defaults.RUNTIME_IMAGE as string };
}

const NAME_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/**
 * A reference as Docker and Kubernetes (containerd's CRI) resolve it: a name without a registry is
 * on docker.io, a single-component docker.io name is under library/, and a missing tag is :latest.
 * podman would put a short name under localhost/ instead; tagging with this full name is what lets
 * the chart's `image.repository: ledgerflow` find an imported image on a node.
 */
export function normalizeImageRef(ref: string): string {
  const fail = (why: string) => new LedgerflowError('LF_IMAGE', `image reference ${JSON.stringify(ref)}: ${why}`, ref);
  if (ref.includes('@')) throw fail('a digest cannot be a build tag; give name:tag');
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  const [name, tag] = colon > slash ? [ref.slice(0, colon), ref.slice(colon + 1)] : [ref, 'latest'];
  if (!TAG.test(tag)) throw fail(`tag ${JSON.stringify(tag)} is not valid`);
  const parts = name.split('/');
  const first = parts[0] ?? '';
  const hasRegistry = parts.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost');
  const registry = hasRegistry ? first : 'docker.io';
  const path = hasRegistry ? parts.slice(1) : parts;
  if (registry === 'docker.io' && path.length === 1) path.unshift('library');
  if (path.length === 0 || !path.every((p) => NAME_COMPONENT.test(p))) throw fail('the name must be lower-case components separated by /');
  return `${registry}/${path.join('/')}:${tag}`;
}
