import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode, type WorkerOptions } from '@temporalio/worker';
import type { Config } from '../config';
import type { Logger } from '../telemetry/log';

/** Bundles kept in the cache directory; older ones are removed. */
const KEEP = 4;

/**
 * The workflow bundle (webpack, ~8 s on a busy 2-core machine) is built once per code version and
 * reused by every worker start: a replaced worker is ready in seconds. The key hashes every source
 * file of this installation (src/ or dist/src/), the lock file and the interceptor modules, so any
 * change to the code a bundle could contain builds a new one. Without a writable cache directory
 * (a read-only container) the bundle is built in memory as before.
 */
export async function workflowCode(
  config: Config,
  interceptorModules: string[],
  log: Logger,
): Promise<Pick<WorkerOptions, 'workflowBundle'>> {
  const workflowsPath = require.resolve('../workflows');
  const sourceRoot = path.dirname(path.dirname(workflowsPath));
  const key = bundleKey(sourceRoot, interceptorModules);
  const dir = path.resolve(config.stack.dir, 'cache', 'workflow-bundles');
  const file = path.join(dir, `${key}.js`);
  try {
    return { workflowBundle: { code: fs.readFileSync(file, 'utf8') } };
  } catch {
    // not built yet for this code version
  }
  const t0 = Date.now();
  const { code } = await bundleWorkflowCode({
    workflowsPath,
    workflowInterceptorModules: interceptorModules,
    logger: { trace: () => undefined, debug: () => undefined, info: () => undefined, warn: (m) => log.warn(m), error: (m) => log.error(m), log: () => undefined },
  });
  try {
    fs.mkdirSync(dir, { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, code);
    fs.renameSync(tmp, file);
    prune(dir);
    log.info({ ms: Date.now() - t0, file }, 'workflow bundle built and cached');
  } catch (err) {
    log.warn({ err: (err as Error).message, dir }, 'workflow bundle built; cache directory not writable, not cached');
  }
  return { workflowBundle: { code } };
}

function bundleKey(sourceRoot: string, interceptorModules: string[]): string {
  const hash = crypto.createHash('sha256');
  for (const file of sourceFiles(sourceRoot)) {
    hash.update(path.relative(sourceRoot, file));
    hash.update(fs.readFileSync(file));
  }
  for (const lock of ['package-lock.json', path.join('..', 'package-lock.json')]) {
    const at = path.join(path.dirname(sourceRoot), lock);
    if (fs.existsSync(at)) {
      hash.update(fs.readFileSync(at));
      break;
    }
  }
  hash.update(JSON.stringify(interceptorModules));
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

function prune(dir: string): void {
  const bundles = fs.readdirSync(dir).filter((f) => f.endsWith('.js'))
    .map((f) => ({ f, t: fs.statSync(path.join(dir, f)).mtimeMs }))
    .sort((a, b) => b.t - a.t);
  for (const { f } of bundles.slice(KEEP)) fs.rmSync(path.join(dir, f), { force: true });
}
