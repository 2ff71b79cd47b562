import fs from 'node:fs';
import type { Config } from '../config';
import { SERVICE_NAMES, stackLayout } from '../stack/layout';

/**
 * CPU time of every process on the box that takes part in a run (stack services and the bench's
 * own children), read from /proc: where the two cores go, per process, over a measured window.
 * Linux only; elsewhere (or for a process that is gone) a process reads as absent.
 */
export interface CpuSample {
  atMs: number;
  /** Cumulative user+system CPU seconds per process name, including its exited children. */
  seconds: Record<string, number>;
}

export interface CpuUse {
  windowS: number;
  /** Cores busy on average over the window, per process and in total. */
  cores: Record<string, number>;
  totalCores: number;
  /** CPU milliseconds per 1,000 committed events, per process. */
  msPer1kEvents: Record<string, number>;
}

const CLOCK_TICKS_PER_S = 100;

/** utime + stime + cutime + cstime of one pid, in seconds (null when it cannot be read). */
export function cpuSecondsOf(pid: number): number | null {
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The command name is in parentheses and may hold spaces: the fields start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 14-17 of stat(5) are utime, stime, cutime, cstime; here 0-based after field 2.
  const ticks = [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i] ?? 0), 0);
  return ticks / CLOCK_TICKS_PER_S;
}

/** Pids of the stack's running services, by service name. */
export function stackPids(config: Config): Record<string, number> {
  const layout = stackLayout(config);
  const out: Record<string, number> = {};
  for (const service of SERVICE_NAMES) {
    try {
      const pid = Number(fs.readFileSync(layout.pidFile(service), 'utf8').trim());
      if (Number.isInteger(pid) && pid > 0) out[service] = pid;
    } catch {
      // not running or not ours: left out
    }
  }
  return out;
}

/** All descendants of a pid (a service may run its work in a child, e.g. a wrapper script). */
function descendants(pid: number): number[] {
  const out: number[] = [];
  let children: string;
  try {
    children = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8');
  } catch {
    return out;
  }
  for (const c of children.split(' ').filter((s) => s.length > 0)) {
    out.push(Number(c), ...descendants(Number(c)));
  }
  return out;
}

export function sampleCpu(pids: Record<string, number>): CpuSample {
  const seconds: Record<string, number> = {};
  for (const [name, pid] of Object.entries(pids)) {
    const own = cpuSecondsOf(pid);
    if (own === null) continue;
    seconds[name] = descendants(pid).reduce((sum, child) => sum + (cpuSecondsOf(child) ?? 0), own);
  }
  return { atMs: Date.now(), seconds };
}

const round2 = (x: number) => Math.round(x * 100) / 100;

/** What each process used between two samples; processes missing from either sample are left out. */
export function cpuBetween(from: CpuSample, to: CpuSample, events: number): CpuUse {
  const windowS = Math.max(1e-3, (to.atMs - from.atMs) / 1000);
  const cores: Record<string, number> = {};
  const msPer1kEvents: Record<string, number> = {};
  let total = 0;
  for (const [name, end] of Object.entries(to.seconds)) {
    const start = from.seconds[name];
    if (start === undefined) continue;
    const used = Math.max(0, end - start);
    total += used;
    cores[name] = round2(used / windowS);
    msPer1kEvents[name] = events > 0 ? round2((used * 1000 * 1000) / events) : 0;
  }
  return { windowS: round2(windowS), cores, totalCores: round2(total / windowS), msPer1kEvents };
}
