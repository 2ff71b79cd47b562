import fs from 'node:fs';
import path from 'node:path';
import { gitCommit, machine } from '../telemetry/provenance';
import type { DemoSummary } from './terminal';

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
