import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode, type WorkerOptions } from '@temporalio/worker';
import type { Config } from '../config';
import type { Logger } from '../telemetry/log';

/** Bundles kept in the cache directory; older ones are removed. */
const KEEP = 4;

/** This installation's workflow code (src/workflows under tsx, dist/src/workflows when built). */
const WORKFLOWS_PATH = require.resolve('../workflows');
/** src/ or dist/src/: every file a bundle could contain lives under it. */
const SOURCE_ROOT = path.dirname(path.dirname(WORKFLOWS_PATH));

/**
 * Where `npm run build` leaves the bundles it built (dist/workflow-bundles, beside dist/src), so a
 * worker of a built installation (the image) never runs webpack at start: docs/decisions/017-image-runtime-base.md.
 */
export const PREBUILT_BUNDLE_DIR = path.join(path.dirname(SOURCE_ROOT), 'workflow-bundles');

export interface BundleLocations {
  /** Read-only bundles made at build time, named by their key; used first. */
  prebuiltDir?: string;
}

/**
 * The workflow bundle (webpack, ~8 s on a busy 2-core machine), built at most once per code
 * version. Looked up by a key that hashes every source file of this installation (src/ or
 * dist/src/), the lock file and the interceptor modules, so any change to the code a bundle could
 * contain misses: first among the bundles prebuilt by `npm run build` (the image has them, and its
 * root filesystem is read-only), then in the stack's cache directory; else built, and cached when
 * the directory is writable.
 */
export async function workflowCode(
  config: Config,
  interceptorModules: string[],
  log: Logger,
  locations: BundleLocations = {},
): Promise<Pick<WorkerOptions, 'workflowBundle'>> {
  const key = bundleKey(interceptorModules);
  const prebuilt = path.join(locations.prebuiltDir ?? PREBUILT_BUNDLE_DIR, `${key}.js`);
  if (fs.existsSync(prebuilt)) {
    log.info({ source: 'prebuilt', file: prebuilt }, 'workflow bundle loaded');
    return { workflowBundle: { codePath: prebuilt } };
  }
  const dir = path.resolve(config.stack.dir, 'cache', 'workflow-bundles');
  const file = path.join(dir, `${key}.js`);
  try {
    const code = fs.readFileSync(file, 'utf8');
    log.info({ source: 'cache', file }, 'workflow bundle loaded');
    return { workflowBundle: { code } };
  } catch {
    // not built yet for this code version
  }
  const t0 = Date.now();
  const code = await buildBundle(interceptorModules, log);
  try {
    writeAtomically(file, code);
    prune(dir);
    log.info({ ms: Date.now() - t0, file }, 'workflow bundle built and cached');
  } catch (err) {
    log.warn({ ms: Date.now() - t0, err: (err as Error).message, dir }, 'workflow bundle built; cache directory not writable, not cached');
  }
  return { workflowBundle: { code } };
}

/**
 * Builds the bundles a worker of this installation can ask for (tracing off: no interceptor
 * modules; tracing on: Temporal's OpenTelemetry workflow interceptors) into `outDir`, named by key.
 */
export async function prebuildWorkflowBundles(outDir: string, interceptorSets: string[][], log: Logger): Promise<string[]> {
  fs.rmSync(outDir, { recursive: true, force: true });
  const files: string[] = [];
  for (const modules of interceptorSets) {
    const file = path.join(outDir, `${bundleKey(modules)}.js`);
    writeAtomically(file, await buildBundle(modules, log));
    files.push(file);
  }
  return files;
}

function buildBundle(interceptorModules: string[], log: Logger): Promise<string> {
  const quiet = () => undefined;
  return bundleWorkflowCode({
    workflowsPath: WORKFLOWS_PATH,
    workflowInterceptorModules: interceptorModules,
    logger: { trace: quiet, debug: quiet, info: quiet, warn: (m) => log.warn(m), error: (m) => log.error(m), log: quiet },
  }).then((b) => b.code);
}

function bundleKey(interceptorModules: string[]): string {
  const hash = crypto.createHash('sha256');
  for (const file of sourceFiles(SOURCE_ROOT)) {
    hash.update(path.relative(SOURCE_ROOT, file));
    hash.update(fs.readFileSync(file));
  }
  for (const lock of ['package-lock.json', path.join('..', 'package-lock.json')]) {
    const at = path.join(path.dirname(SOURCE_ROOT), lock);
    if (fs.existsSync(at)) {
      hash.update(fs.readFileSync(at));
      break;
    }
  }
  // Relative paths: the build stage and the image's run stage install the same tree at /app, and a
  // key must not depend on where a clone lives.
  hash.update(JSON.stringify(interceptorModules.map((m) => path.relative(SOURCE_ROOT, m))));
  return hash.digest('hex').slice(0, 24);
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sourceFiles(full));
    else if (/\.(ts|js|mjs|cjs|json)$/.test(entry.name)) out.push(full);
  }
  return out;
}

function writeAtomically(file: string, content: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, content);
  fs.renameSync(tmp, file);
}

function prune(dir: string): void {
  const bundles = fs.readdirSync(dir).filter((f) => f.endsWith('.js'))
    .map((f) => ({ f, t: fs.statSync(path.join(dir, f)).mtimeMs }))
    .sort((a, b) => b.t - a.t);
  for (const { f } of bundles.slice(KEEP)) fs.rmSync(path.join(dir, f), { force: true });
}
