import { execFileSync } from 'node:child_process';
import os from 'node:os';

/** Where a report's figures come from: the code (commit) and the machine they were measured on. */

/** The commit the run is of, with `+changes` when the tree differs from it ('unknown' outside a clone). */
export function gitCommit(): string {
  try {
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return dirty ? `${head}+changes` : head;
  } catch {
    return 'unknown';
  }
}

/** The machine a figure was measured on; the load average says how shared it was. */
export function machine(): { cpuModel: string; cores: number; memoryBytes: number; loadAverage1m: number } {
  return { cpuModel: os.cpus()[0]?.model ?? 'unknown', cores: os.cpus().length, memoryBytes: os.totalmem(), loadAverage1m: Number((os.loadavg()[0] ?? 0).toFixed(2)) };
}
