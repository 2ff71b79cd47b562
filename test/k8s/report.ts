import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadAverage } from '../../src/bench/results';
import { loadConfig } from '../../src/config';
import { clusterLayout } from '../../src/cluster';
import { readBuildTimings } from '../../src/cluster/gobuild';
import { ETCD_VERSION, KUBERNETES_VERSION } from '../../src/cluster/layout';
import { repoRoot } from '../../src/stack/layout';

/**
 * docs/reports/k8s-e2e.json: what `npm run test:k8s` measured, merged section by section as the
 * test files run, with the commit it ran on and the machine. Written only when asked
 * (LF_K8S_REPORT=1, which `npm run test:k8s` sets): `npm test` runs the same tests and leaves the
 * tracked tree as it was.
 */
export const REPORT_FILE = path.join(repoRoot(), 'docs', 'reports', 'k8s-e2e.json');
export const REPORT_ENABLED = process.env.LF_K8S_REPORT === '1';

const git = (args: string[]) => execFileSync('git', args, { cwd: repoRoot(), encoding: 'utf8' }).trim();

/** Every file a `npm run test:k8s` run writes; the tests run one after another, so each may find the others'. */
export const RUN_OUTPUTS = ['docs/reports/k8s-e2e.json', 'docs/reports/image.json', 'docs/reports/autoscale.json', 'docs/autoscale.svg'];

/** Whether the tree is the commit's, apart from this run's own reports. */
export function treeCleanApartFromRunOutputs(): boolean {
  return git(['status', '--porcelain', '--', '.', ...RUN_OUTPUTS.map((f) => `:!${f}`)]) === '';
}

export function recordReport(section: Record<string, unknown>): void {
  if (!REPORT_ENABLED) return;
  let current: Record<string, unknown> = {};
  try {
    current = JSON.parse(fs.readFileSync(REPORT_FILE, 'utf8')) as Record<string, unknown>;
  } catch {
    // first section of this run
  }
  const commit = git(['rev-parse', 'HEAD']);
  // A report from another commit is replaced, not merged into.
  if (current.commit !== commit) current = {};
  const cacheRoot = clusterLayout(loadConfig()).cacheRoot;
  const merged = {
    ...current,
    commit,
    cleanTree: treeCleanApartFromRunOutputs(),
    when: new Date().toISOString(),
    machine: { cpuModel: os.cpus()[0]?.model ?? 'unknown', cores: os.cpus().length, memoryBytes: os.totalmem(), loadAverage: loadAverage() },
    cluster: { kubernetes: KUBERNETES_VERSION, etcd: ETCD_VERSION, containerd: '1.6.20 (Debian)', nodes: 1 },
    // Seconds of each Go build when it last ran from an empty cache entry (source download, go build).
    builds: readBuildTimings(cacheRoot),
    ...section,
  };
  fs.writeFileSync(REPORT_FILE, `${JSON.stringify(merged, null, 2)}\n`);
}

/** `tsx test/k8s/report.ts <section> <json>`: a section from the shell (test/k8s/run.sh's timings). */
if (require.main === module) {
  const [name, json] = process.argv.slice(2);
  if (name && json) recordReport({ [name]: JSON.parse(json) as unknown });
}
