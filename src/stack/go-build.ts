import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { LedgerflowError } from '../domain/errors';
import { hasMarker, requireBinary, runStep, writeMarker } from './install';
import { ensureDir } from './layout';
import { StackContext } from './service';

/**
 * Programs of the local stack compiled from the Go module proxy (nothing is downloaded from
 * release pages), cached per user outside the clone: a fresh clone, as CI makes on every run,
 * reuses a build that took minutes. Each build lives in a directory named by what it was built
 * from, so another version never overwrites it, and is moved into place only once complete.
 */

export interface GoProgram {
  /** Cache subdirectory and log name ("otelcol", "jaeger"). */
  component: string;
  /** The binary's file name. */
  binary: string;
  /** What the build is made from (module versions, manifest): its hash names the cache entry. */
  recipe: string;
  /** Human label of the version for logs ("v0.165.0"). */
  version: string;
  /** Runs the build in `workDir` and leaves the binary at `output`. */
  build(go: GoBuildSteps, workDir: string, output: string): Promise<void>;
}

export interface GoBuildSteps {
  go(args: string[], step: string, cwd: string, env?: NodeJS.ProcessEnv): Promise<void>;
  run(command: string, args: string[], step: string, cwd: string): Promise<void>;
}

export interface CachedBinary {
  binary: string;
  marker: string;
}

const shortHash = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 12);

/** Where a program's build is cached; the marker holds the hash of the recipe it was built from. */
export function cachedBinary(cacheDir: string, program: Pick<GoProgram, 'component' | 'binary' | 'recipe' | 'version'>): CachedBinary {
  const dir = path.join(cacheDir, program.component, `${program.version}-${shortHash(program.recipe)}`);
  return { binary: path.join(dir, program.binary), marker: path.join(dir, '.built') };
}

/** Builds the program once per recipe; later calls (and later clones) find the cached binary. */
export async function ensureGoProgram(ctx: StackContext, cacheDir: string, program: GoProgram): Promise<string> {
  const target = cachedBinary(cacheDir, program);
  // The marker holds the recipe's full hash (the directory name carries a short one).
  const built = createHash('sha256').update(program.recipe).digest('hex');
  if (hasMarker(target.marker, built) && fs.existsSync(target.binary)) return target.binary;
  const go = requireBinary('go', `building ${program.component} (Go 1.25 or newer)`);
  const logFile = ctx.layout.installLogFile(program.component);
  const started = Date.now();
  ctx.log(`stack: ${program.component}: building ${program.version} from the Go module proxy into ${path.dirname(target.binary)} (a few minutes, once; output in ${logFile})`);
  // A build directory of our own: two stacks on one machine may build the same entry at once.
  const workDir = fs.mkdtempSync(path.join(ensureDir(path.join(cacheDir, program.component)), '.build-'));
  // Only the module proxy, and this machine's Go: no toolchain download, no VCS stamping.
  const env = { ...process.env, GOTOOLCHAIN: 'local', GOFLAGS: '-buildvcs=false' };
  const steps: GoBuildSteps = {
    go: (args, step, cwd, extra = {}) => runStep(go, args, { step, logFile, cwd, env: { ...env, ...extra } }),
    run: (command, args, step, cwd) => runStep(command, args, { step, logFile, cwd, env }),
  };
  try {
    const output = path.join(workDir, program.binary);
    await program.build(steps, workDir, output);
    if (!fs.existsSync(output)) {
      throw new LedgerflowError('LF_INSTALL', `install step "${program.component} build" finished without ${program.binary}; see ${logFile}`);
    }
    ensureDir(path.dirname(target.binary));
    fs.renameSync(output, target.binary);
    writeMarker(target.marker, built);
  } finally {
    fs.rmSync(workDir, { recursive: true, force: true });
  }
  ctx.log(`stack: ${program.component}: built ${program.version} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return target.binary;
}
