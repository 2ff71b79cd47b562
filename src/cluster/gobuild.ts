import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { LedgerflowError } from '../domain/errors';
import { ensureDir } from '../stack/layout';
import { hasMarker, requireBinary, runStep, writeMarker } from '../stack/install';

/**
 * Go binaries built from the Go module proxy (the only source of them this machine reaches),
 * into a per-user cache keyed by module version. A marker written after a successful build makes
 * the next call a no-op; a half-finished build is never trusted (it is built into a temporary
 * directory and renamed into place).
 */

const execFileAsync = promisify(execFile);

/** Smaller binaries and no machine path in them. */
const BUILD_FLAGS = ['-trimpath'];
const STRIP = '-s -w';
/**
 * Every binary static, as upstream releases them (scratch images need it): one build
 * configuration for all, so the packages they share (the standard library, client-go, gRPC) are
 * compiled once into the shared build cache, not once per cgo setting.
 */
const BUILD_ENV = { CGO_ENABLED: '0' };

/**
 * The Go module and build caches live in the per-user cache (cache.dir/go), beside the binaries
 * they make: one directory for CI to keep, and a cold build is cold whatever else ran `go` here.
 * -modcacherw: the module cache can be deleted like any directory.
 */
export function goEnv(cacheRoot: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    GOMODCACHE: path.join(cacheRoot, 'go', 'mod'),
    GOCACHE: path.join(cacheRoot, 'go', 'build'),
    GOFLAGS: '-mod=mod -modcacherw',
    GOWORK: 'off',
    ...extra,
  };
}

/** Seconds each build step took when it last ran (cold, unless the caches were partly warm). */
export interface BuildTiming {
  downloadS: number;
  buildS: number;
  /**
   * CPU seconds of the go build (user + system, every compiler process): on a shared machine the
   * wall time says more about the neighbours than the build; on N idle cores it takes ≈ cpuS / N.
   */
  cpuS?: number;
  at: string;
}

export function buildTimingsFile(cacheRoot: string): string {
  return path.join(cacheRoot, 'build-times.json');
}

export function readBuildTimings(cacheRoot: string): Record<string, BuildTiming> {
  try {
    return JSON.parse(fs.readFileSync(buildTimingsFile(cacheRoot), 'utf8')) as Record<string, BuildTiming>;
  } catch {
    return {};
  }
}

function recordBuildTiming(cacheRoot: string, name: string, timing: BuildTiming): void {
  const all = { ...readBuildTimings(cacheRoot), [name]: timing };
  ensureDir(cacheRoot);
  fs.writeFileSync(buildTimingsFile(cacheRoot), `${JSON.stringify(all, null, 2)}\n`);
}

export interface GoBinaries {
  /** Module path and version: `helm.sh/helm/v4`, `v4.3.2`. */
  module: string;
  version: string;
  /** Main packages, relative to the module root (`./cmd/helm`, `.`). */
  packages: string[];
  /** Where the binaries go (the cache's <name>-<version>/bin). */
  binDir: string;
  /** The binary names the packages produce (checked after the build). */
  binaries: string[];
  /** The per-user cache (cache.dir/cluster): Go caches, sources and build timings go there. */
  cacheRoot: string;
  /** Extra -X settings (version strings) for the linker. */
  ldflagsX?: Record<string, string>;
  /**
   * Modules that the module's go.mod replaces with a local directory of its own repository
   * (`k8s.io/api => ./staging/src/k8s.io/api`): those replace lines are dropped and the modules
   * required at this published version instead, so the module builds outside its repository.
   */
  localReplacesAt?: { prefix: string; version: string };
  /**
   * Blank imports of one Go file to keep (the rest are dropped): CoreDNS links its plugins this way,
   * and its documented custom build is exactly this list trimmed.
   */
  keepImports?: { file: string; keep: string[] };
  logFile: string;
  log: (line: string) => void;
}

/** The recipe, recorded in the marker: a change of flags or version rebuilds. */
function recipe(spec: GoBinaries): string {
  return JSON.stringify({ module: spec.module, version: spec.version, packages: spec.packages, ldflagsX: spec.ldflagsX ?? {}, flags: BUILD_FLAGS, env: BUILD_ENV, keepImports: spec.keepImports ?? null });
}

const markerOf = (binDir: string) => path.join(path.dirname(binDir), '.built');

export function goBinariesBuilt(spec: Pick<GoBinaries, 'binDir' | 'binaries'> & Partial<GoBinaries>): boolean {
  return (
    (spec.module === undefined || hasMarker(markerOf(spec.binDir), recipe(spec as GoBinaries))) &&
    spec.binaries.every((b) => fs.existsSync(path.join(spec.binDir, b)))
  );
}

/** Builds the binaries unless the cache holds this exact recipe; returns their directory. */
export async function ensureGoBinaries(spec: GoBinaries): Promise<string> {
  if (goBinariesBuilt(spec)) return spec.binDir;
  const go = requireBinary('go', `building ${spec.module}`);
  const t0 = Date.now();
  spec.log(`cluster: building ${spec.module} ${spec.version} (${spec.binaries.join(', ')}) from the Go module proxy; output in ${spec.logFile}`);
  const source = await moduleSource(go, spec);
  const downloaded = Date.now();
  const tmp = `${spec.binDir}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  ensureDir(tmp);
  const ldflags = [STRIP, ...Object.entries(spec.ldflagsX ?? {}).map(([k, v]) => `-X ${k}=${v}`)].join(' ');
  // One `go build` for all packages, so the packages they share compile once.
  const out = spec.packages.length === 1 ? path.join(tmp, spec.binaries[0] as string) : `${tmp}${path.sep}`;
  const cpuFile = `${tmp}.cpu`;
  // bash's `times` reports the CPU time of the finished go build and every compiler it ran.
  await runStep('bash', ['-c', 'out=$1; shift; "$@"; s=$?; times > "$out"; exit $s', 'go-build', cpuFile, go, 'build', ...BUILD_FLAGS, `-ldflags=${ldflags}`, '-o', out, ...spec.packages], {
    step: `go build ${spec.module}@${spec.version}`,
    logFile: spec.logFile,
    cwd: source,
    env: goEnv(spec.cacheRoot, BUILD_ENV),
  });
  for (const b of spec.binaries) {
    if (!fs.existsSync(path.join(tmp, b))) throw new LedgerflowError('LF_INSTALL', `go build ${spec.module} produced no ${b}; see ${spec.logFile}`);
  }
  fs.rmSync(spec.binDir, { recursive: true, force: true });
  ensureDir(path.dirname(spec.binDir));
  fs.renameSync(tmp, spec.binDir);
  writeMarker(markerOf(spec.binDir), recipe(spec));
  const timing: BuildTiming = { downloadS: Math.round((downloaded - t0) / 1000), buildS: Math.round((Date.now() - downloaded) / 1000), at: new Date().toISOString() };
  const cpuS = childCpuSeconds(cpuFile);
  if (cpuS !== undefined) timing.cpuS = cpuS;
  fs.rmSync(cpuFile, { force: true });
  recordBuildTiming(spec.cacheRoot, `${spec.module}@${spec.version}`, timing);
  spec.log(`cluster: built ${spec.module} ${spec.version} in ${timing.downloadS + timing.buildS} s (source ${timing.downloadS} s, go build ${timing.buildS} s, ${cpuS ?? '?'} CPU s)`);
  return spec.binDir;
}

/** The children's line of bash's `times` ("7m12.345s 0m40.001s"): user + system seconds. */
export function childCpuSeconds(file: string): number | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const line = text.trim().split('\n')[1] ?? '';
  const parts = [...line.matchAll(/(\d+)m([\d.]+)s/g)].map((m) => Number(m[1]) * 60 + Number(m[2]));
  return parts.length === 2 ? Math.round((parts[0] as number) + (parts[1] as number)) : undefined;
}

/** Where the writable copy of a module's source stays after the build: <cache>/src/<name>-<version>. */
export function moduleSourceDir(spec: Pick<GoBinaries, 'cacheRoot' | 'binDir'>): string {
  return path.join(spec.cacheRoot, 'src', path.basename(path.dirname(spec.binDir)));
}

/**
 * A writable copy of the module's source: `go mod download` puts it read-only in the module cache;
 * the copy gets its own go.mod edits (see localReplacesAt) and no go.work.
 */
async function moduleSource(go: string, spec: GoBinaries): Promise<string> {
  const dir = moduleSourceDir(spec);
  const ready = path.join(dir, '.ledgerflow-source');
  if (hasMarker(ready, `${spec.module}@${spec.version}#${JSON.stringify(spec.keepImports ?? null)}`)) return dir;
  const { stdout } = await execFileAsync(go, ['mod', 'download', '-json', `${spec.module}@${spec.version}`], {
    cwd: ensureDir(path.dirname(dir)),
    env: goEnv(spec.cacheRoot),
    maxBuffer: 16 * 1024 * 1024,
  }).catch((err: Error & { stdout?: string }) => ({ stdout: err.stdout ?? JSON.stringify({ Error: err.message }) }));
  const info = JSON.parse(stdout) as { Dir?: string; Error?: string };
  if (!info.Dir) throw new LedgerflowError('LF_INSTALL', `go mod download ${spec.module}@${spec.version}: ${info.Error ?? 'no directory'}`);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.cpSync(info.Dir, dir, { recursive: true });
  makeWritable(dir);
  fs.rmSync(path.join(dir, 'go.work'), { force: true });
  fs.rmSync(path.join(dir, 'go.work.sum'), { force: true });
  if (spec.localReplacesAt) {
    const goMod = path.join(dir, 'go.mod');
    fs.writeFileSync(goMod, withoutLocalReplaces(fs.readFileSync(goMod, 'utf8'), spec.localReplacesAt));
  }
  if (spec.keepImports) {
    const file = path.join(dir, spec.keepImports.file);
    fs.writeFileSync(file, withBlankImportsOnly(fs.readFileSync(file, 'utf8'), spec.keepImports.keep));
  }
  writeMarker(ready, `${spec.module}@${spec.version}#${JSON.stringify(spec.keepImports ?? null)}`);
  return dir;
}

function makeWritable(dir: string): void {
  fs.chmodSync(dir, 0o755);
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) makeWritable(file);
    else if (entry.isFile()) fs.chmodSync(file, 0o644);
  }
}

/**
 * Drops `X => ./local/dir` (or `../dir`) replace lines of modules under `prefix` and requires them at
 * `version` instead of the placeholder the repository uses (v0.0.0 or the repository's own version).
 */
export function withoutLocalReplaces(goMod: string, at: { prefix: string; version: string }): string {
  const replaced = new Set<string>();
  const lines = goMod.split('\n').filter((line) => {
    const m = /^\s*(?:replace\s+)?(\S+)(?:\s+\S+)?\s+=>\s+\.\.?\/\S*\s*$/.exec(line);
    if (m && (m[1] as string).startsWith(at.prefix)) {
      replaced.add(m[1] as string);
      return false;
    }
    return true;
  });
  return lines
    .map((line) => {
      const m = /^(\s*(?:require\s+)?)(\S+)\s+v\S+(\s*(?:\/\/.*)?)$/.exec(line);
      return m && replaced.has(m[2] as string) ? `${m[1]}${m[2]} ${at.version}${m[3]}` : line;
    })
    .join('\n');
}

/** Drops the blank imports (`_ "path"`) whose path is not in `keep`; every kept one must be there. */
export function withBlankImportsOnly(source: string, keep: string[]): string {
  const found = new Set<string>();
  const out = source
    .split('\n')
    .filter((line) => {
      const m = /^\s*_\s+"([^"]+)"/.exec(line);
      if (!m) return true;
      if (keep.includes(m[1] as string)) found.add(m[1] as string);
      return keep.includes(m[1] as string);
    })
    .join('\n');
  const missing = keep.filter((k) => !found.has(k));
  if (missing.length > 0) throw new LedgerflowError('LF_INSTALL', `blank imports to keep not found: ${missing.join(', ')}`);
  return out;
}
