import fs from 'node:fs';
import path from 'node:path';

/** Where the CPU time of a process went, from its V8 `--cpu-prof` file (self time only). */
export interface ProcessProfile {
  file: string;
  totalMs: number;
  /** Self time per place: an npm package, a src/ room, node internals, GC, idle. */
  byPlace: Array<{ place: string; ms: number; share: number }>;
  topFunctions: Array<{ fn: string; ms: number; share: number }>;
}

export type ProfileSummary = ProcessProfile[];

interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number }>;
  samples: number[];
  timeDeltas: number[];
}

function placeOf(url: string, functionName: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1] as string;
  const src = /\/src\/([^/]+)\//.exec(url);
  if (src) return `src/${src[1]}`;
  if (url.startsWith('node:')) return 'node internals';
  return path.basename(url);
}

const TOP = 15;

function top<T extends { ms: number }>(entries: Map<string, number>, totalMs: number, key: (name: string, ms: number) => T): T[] {
  return [...entries.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, TOP)
    .map(([name, ms]) => ({ ...key(name, Math.round(ms)), share: Math.round((ms / totalMs) * 1000) / 10 }));
}

export function summariseProfile(file: string): ProcessProfile {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const byPlace = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let totalMs = 0;
  for (const node of profile.nodes) {
    const ms = (selfUs.get(node.id) ?? 0) / 1000;
    if (ms === 0) continue;
    totalMs += ms;
    const { functionName, url, lineNumber } = node.callFrame;
    const place = placeOf(url, functionName);
    byPlace.set(place, (byPlace.get(place) ?? 0) + ms);
    const fn = `${functionName || '(anonymous)'} ${place}${url ? `:${lineNumber + 1}` : ''}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + ms);
  }
  return {
    file: path.basename(file),
    totalMs: Math.round(totalMs),
    byPlace: top(byPlace, totalMs, (place, ms) => ({ place, ms, share: 0 })),
    topFunctions: top(byFunction, totalMs, (fn, ms) => ({ fn, ms, share: 0 })),
  };
}

export function summariseProfiles(dir: string): ProfileSummary {
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .sort()
    .map((f) => summariseProfile(path.join(dir, f)));
}
