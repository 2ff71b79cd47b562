import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadAverage } from '../../src/bench/results';
import { ETCD_VERSION, KUBERNETES_VERSION } from '../../src/cluster/layout';
import { repoRoot } from '../../src/stack/layout';

/**
 * docs/reports/k8s-e2e.json: what `npm run test:k8s` measured, merged section by section as the
 * test files run, with the commit it ran on and the machine.
 */
export const REPORT_FILE = path.join(repoRoot(), 'docs', 'reports', 'k8s-e2e.json');

export function recordReport(section: Record<string, unknown>): void {
  let current: Record<string, unknown> = {};
  try {
    current = JSON.parse(fs.readFileSync(REPORT_FILE, 'utf8')) as Record<string, unknown>;
  } catch {
    // first section of this run
  }
  const commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: repoRoot(), encoding: 'utf8' }).trim();
  // A report from another commit is replaced, not merged into.
  if (current.commit !== commit) current = {};
  const merged = {
    ...current,
    commit,
    when: new Date().toISOString(),
    machine: { cpuModel: os.cpus()[0]?.model ?? 'unknown', cores: os.cpus().length, memoryBytes: os.totalmem(), loadAverage: loadAverage() },
    cluster: { kubernetes: KUBERNETES_VERSION, etcd: ETCD_VERSION, containerd: '1.6.20 (Debian)', nodes: 1 },
    ...section,
  };
  fs.writeFileSync(REPORT_FILE, `${JSON.stringify(merged, null, 2)}\n`);
}
