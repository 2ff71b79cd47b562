import type { FraudOutcome } from '../store/fraudLabels';
import type { VerifyReport } from '../verify';

/**
 * What the demo shows a person: a few start-up lines, one live progress line, a closing summary.
 * Pure formatting (the lines), so a test can check the words without a terminal.
 */

const n = (x: number) => Math.round(x).toLocaleString('en-US');
const share = (x: number) => x.toFixed(3);

/** One start-up step: "  label      text". */
export function stepLine(label: string, text: string): string {
  return `  ${label.padEnd(12)} ${text}`;
}

/**
 * How a `stack up` line reads on the demo's terminal (null: not worth a line there). Paths under
 * the stack's directory are shown as the person would type them (`.stack/…`), not absolute.
 */
export function stackStep(line: string, stackRoot: { absolute: string; shown: string }): [string, string] | null {
  const ready = /^stack: (\w+): ready on (\S+) after ([\d.]+) s/.exec(line);
  if (ready) return [ready[1] as string, `started, answering on ${ready[2]} after ${ready[3]} s`];
  const running = /^stack: (\w+): already running \(pid \d+, (\S+)\)/.exec(line);
  if (running) return [running[1] as string, `running on ${running[2]}`];
  if (/installing|initialising|formatting/.test(line)) {
    return ['install', line.replace(/^stack: /, '').replace(/ \(output in .*\)$/, '').split(stackRoot.absolute).join(stackRoot.shown)];
  }
  return null;
}

export interface Progress {
  produced: number;
  total: number;
  committed: number;
  ratePerSec: number;
  lag: number;
  dlq: number;
}

export function progressLine(p: Progress): string {
  return `  produced ${n(p.produced)}/${n(p.total)} · committed ${n(p.committed)} · ${n(p.ratePerSec)} tx/s · lag ${n(p.lag)} · DLQ ${n(p.dlq)}`;
}

/** The verify report in words: what was checked and found, or what differs. */
export function verifyInWords(r: VerifyReport): string {
  if (r.ok) {
    // Parked events and reused ids are accounted for (verify is ok), but a person should know of them.
    const asideParts = [
      r.parked > 0 ? `${n(r.parked)} parked by the store (\`npx ledgerflow parked list\`)` : '',
      r.conflicts > 0 ? `${n(r.conflicts)} reused ids recorded as conflicts (\`npx ledgerflow conflicts list\`)` : '',
    ].filter(Boolean);
    return `✓ all ${n(r.valid)} valid events in Kafka stored exactly once (${n(r.applied)} applied, ${n(r.rejected)} rejected by the rules), ` +
      `${n(r.dlqFound)} malformed in the DLQ with a reason, balances = their transactions${asideParts.length > 0 ? `; ${asideParts.join(', ')}` : ''}`;
  }
  const problems = [
    [r.lag, 'not yet committed (lag)'],
    [r.missing, 'missing from the database'],
    [r.duplicated, 'stored more than once'],
    [r.contentMismatches, 'stored with other content'],
    [r.conflictsUnrecorded, 'reused ids with other content not recorded as conflicts'],
    [r.conflictsUnexpected, 'recorded conflicts the topic does not explain'],
    [r.dlqMissing, 'malformed but not in the DLQ'],
    [r.dlqWithoutReason, 'in the DLQ without a reason'],
    [r.balanceMismatches, 'balances that differ from their transactions'],
    [r.acknowledgedNotInKafka, 'acknowledged but not in Kafka'],
  ].filter(([count]) => (count as number) > 0).map(([count, what]) => `${n(count as number)} ${what as string}`);
  return `✗ verify found differences: ${problems.join(', ')} (run \`npx ledgerflow verify\` for the report)`;
}

export interface DemoSummary {
  verify: VerifyReport;
  /** Detection on this run's transactions, from the producer's labels. */
  fraud: FraudOutcome;
  sent: number;
  malformed: number;
  elapsedS: number;
  reviewOpensPerBatchMax: number;
  reviewQueueMax: number;
  urls: { livePage: string; summary: string; openApi: string; temporalUi: string; prometheus: string };
  /**
   * The credential that opens the API (the local stack's, every scope): shown with the URLs so
   * the person can sign in to the live page and call the API right away.
   */
  apiCredential?: string;
  /** The file that holds it (for commands to copy; the token itself stays out of shell history). */
  apiTokenFile?: string;
  logDir: string;
  /** The command that runs the CLI here (`npx ledgerflow`). */
  cli: string;
  stays: boolean;
}

function section(title: string): string {
  return `  ${title} ${'─'.repeat(Math.max(4, 72 - title.length))}`;
}

export function summaryLines(s: DemoSummary): string[] {
  const f = s.fraud;
  const rows: Array<[string, string]> = [
    ['verify', verifyInWords(s.verify)],
    ['this run', `${n(s.sent)} events in ${s.elapsedS.toFixed(1)} s: ${n(f.applied)} applied, ${n(f.transactions - f.applied)} rejected, ${n(s.malformed)} malformed → DLQ`],
    ['fraud', `${n(f.injected)} injected (${((100 * f.injected) / Math.max(1, f.transactions)).toFixed(1)} %) · ${n(f.flagged)} flagged · precision ${share(f.precision)} · recall ${share(f.recall)}`],
    ['reviews', `${n(f.reviewsOpened)} opened for a person (at most ${n(s.reviewOpensPerBatchMax)} per batch, ${n(s.reviewQueueMax)} waiting)`],
  ];
  const urls: Array<[string, string]> = [
    ['live page', s.urls.livePage],
    ['API', `${s.urls.openApi} · ${s.urls.summary}`],
    ...(s.apiCredential ? ([['credential', `${s.apiCredential}${s.apiTokenFile ? `  (sign in to the live page with it; also in ${s.apiTokenFile})` : ''}`]] as Array<[string, string]>) : []),
    ['Temporal UI', s.urls.temporalUi],
    ['Prometheus', s.urls.prometheus],
    ['dashboards', 'grafana/dashboards/*.json (fraud injected vs flagged on "Ledgerflow / Business"; grafana/README.md)'],
    ['logs', `${s.logDir}/ (consumer, worker, api)`],
  ];
  const next: string[] = [
    `${s.cli} verify                      compare Kafka with the database again`,
    `curl -s ${s.apiTokenFile ? `-H "Authorization: Bearer $(cat ${s.apiTokenFile})" ` : ''}${s.urls.livePage}reviews?status=open   the review queue`,
    `npm run demo -- --count 100000 --rate 5000   a bigger run`,
    `${s.cli} stack status                the local Kafka, Temporal, MariaDB, Prometheus`,
  ];
  const stop = s.stays
    ? `Ctrl-C stops the consumer, worker and api; \`${s.cli} stack down\` stops the stack (data is kept).`
    : `The consumer, worker and api are stopped; \`${s.cli} stack down\` stops the stack (data is kept).`;
  const table = (list: Array<[string, string]>) => list.map(([k, v]) => `  ${k.padEnd(12)} ${v}`);
  return ['', section('Result'), ...table(rows), '', section('Open'), ...table(urls), '', section('Try next'), ...next.map((l) => `  ${l}`), '', `  ${stop}`];
}
