import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DemoSummary } from './terminal';

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

export function machine(): { cpuModel: string; cores: number; memoryBytes: number; loadAverage1m: number } {
  return { cpuModel: os.cpus()[0]?.model ?? 'unknown', cores: os.cpus().length, memoryBytes: os.totalmem(), loadAverage1m: Number((os.loadavg()[0] ?? 0).toFixed(2)) };
}

const rounded = (x: number) => Number(x.toFixed(4));

/**
 * docs/reports/fraud-demo.json: what a default demo run showed about fraud detection. Written
 * only when the demo is asked to (`--report FILE`), never by the tests.
 */
export function writeDemoReport(file: string, run: { summary: DemoSummary; settings: Record<string, number>; totalS: number }): string {
  const { fraud, verify } = run.summary;
  const report = {
    what: 'one `npm run demo` run: the default traffic through the local pipeline, detection scored against the labels the producer recorded (fraud_labels)',
    commit: gitCommit(),
    machine: machine(),
    generatedAt: new Date().toISOString(),
    settings: run.settings,
    transactions: fraud.transactions,
    applied: fraud.applied,
    malformed: run.summary.malformed,
    injectedFraud: fraud.injected,
    flagged: fraud.flagged,
    flaggedInjected: fraud.caught,
    precision: rounded(fraud.precision),
    recall: rounded(fraud.recall),
    reviewsOpened: fraud.reviewsOpened,
    verifyOk: verify.ok,
    produceSeconds: Number(run.summary.elapsedS.toFixed(1)),
    demoSeconds: Number(run.totalS.toFixed(1)),
  };
  const out = path.resolve(file);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  return out;
}
