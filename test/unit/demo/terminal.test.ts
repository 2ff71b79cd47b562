import assert from 'node:assert/strict';
import { test } from 'node:test';
import { progressLine, stackStep, summaryLines, verifyInWords, type DemoSummary } from '../../../src/demo/terminal';
import type { VerifyReport } from '../../../src/verify';

const clean: VerifyReport = {
  produced: 20_000, valid: 19_800, duplicateSends: 0, conflicts: 0, conflictsRecorded: 0, conflictsUnrecorded: 0, conflictsUnexpected: 0, malformed: 200, stored: 19_800,
  applied: 19_650, rejected: 150, missing: 0, parked: 0, duplicated: 0, contentMismatches: 0, dlqFound: 200, dlqMissing: 0, dlqWithoutReason: 0, balanceMismatches: 0,
  acknowledgedNotInKafka: 0, lag: 0, ok: true,
  examples: { missing: [], duplicated: [], contentMismatches: [], conflictsUnrecorded: [], balanceMismatches: [], dlqMissing: [] },
};

test('the progress line: produced, committed, rate, lag, DLQ', () => {
  assert.equal(progressLine({ produced: 12_000, total: 20_000, committed: 11_420, ratePerSec: 1002.4, lag: 580, dlq: 118 }), '  produced 12,000/20,000 · committed 11,420 · 1,002 tx/s · lag 580 · DLQ 118');
});

test('the stack\'s start-up in a few lines: installs with paths as a person types them, each service once it answers', () => {
  const root = { absolute: '/home/ada/ledgerflow/.stack', shown: '.stack' };
  assert.deepEqual(stackStep('stack: kafka: installing Kafka 3.9.1 jars from Maven Central into /home/ada/ledgerflow/.stack/kafka/libs (output in /home/ada/ledgerflow/.stack/logs/install-kafka.log)', root),
    ['install', 'kafka: installing Kafka 3.9.1 jars from Maven Central into .stack/kafka/libs']);
  assert.deepEqual(stackStep('stack: mariadb: ready on 127.0.0.1:3306 after 8.8 s', root), ['mariadb', 'started, answering on 127.0.0.1:3306 after 8.8 s']);
  assert.deepEqual(stackStep('stack: temporal: already running (pid 42, 127.0.0.1:7233)', root), ['temporal', 'running on 127.0.0.1:7233']);
  assert.equal(stackStep('stack: mariadb: started (pid 6916, 127.0.0.1:3306, log /home/ada/ledgerflow/.stack/logs/mariadb.log)', root), null, 'the ready line follows');
});

test('verify in words: what holds, or each difference found', () => {
  assert.match(verifyInWords(clean), /^✓ all 19,800 valid events in Kafka stored exactly once \(19,650 applied, 150 rejected by the rules\), 200 malformed in the DLQ/);
  const bad = verifyInWords({ ...clean, ok: false, missing: 3, balanceMismatches: 1 });
  assert.equal(bad, '✗ verify found differences: 3 missing from the database, 1 balances that differ from their transactions (run `npx ledgerflow verify` for the report)');
  assert.match(verifyInWords({ ...clean, ok: false, conflictsUnrecorded: 2 }), /2 reused ids with other content not recorded as conflicts/);
  assert.match(verifyInWords({ ...clean, parked: 1, conflicts: 2 }), /^✓ .*; 1 parked by the store \(`npx ledgerflow parked list`\), 2 reused ids recorded as conflicts/);
  assert.doesNotMatch(verifyInWords(clean), /parked|conflicts/);
});

test('the summary: results, where to look, what to try, how to stop; the credential when there is one', () => {
  const summary: DemoSummary = {
    verify: clean,
    fraud: { transactions: 19_800, applied: 19_650, injected: 263, flagged: 265, caught: 262, precision: 262 / 265, recall: 262 / 263, reviewsOpened: 25 },
    sent: 20_000, malformed: 200, elapsedS: 20.04, reviewOpensPerBatchMax: 25, reviewQueueMax: 1000,
    urls: { livePage: 'http://h:1/', summary: 'http://h:1/stats/summary', openApi: 'http://h:1/openapi.json', temporalUi: 'http://h:2', prometheus: 'http://h:3' },
    logDir: '.stack/logs/demo', cli: 'npx ledgerflow', stays: true,
  };
  const text = summaryLines(summary).join('\n');
  assert.match(text, /fraud +263 injected \(1\.3 %\) · 265 flagged · precision 0\.989 · recall 0\.996/);
  assert.match(text, /this run +20,000 events in 20\.0 s: 19,650 applied, 150 rejected, 200 malformed → DLQ/);
  assert.match(text, /Ctrl-C stops the consumer, worker and api/);
  assert.doesNotMatch(text, /credential/);
  assert.match(summaryLines({ ...summary, apiCredential: 'Bearer abc' }).join('\n'), /credential +Bearer abc/);
  const signed = summaryLines({ ...summary, apiCredential: 'lf_abc', apiTokenFile: '.stack/secrets/local.token' }).join('\n');
  assert.match(signed, /credential +lf_abc +\(sign in to the live page with it; also in \.stack\/secrets\/local\.token\)/);
  assert.match(signed, /curl -s -H "Authorization: Bearer \$\(cat \.stack\/secrets\/local\.token\)" http:\/\/h:1\/reviews\?status=open/);
  assert.ok(summaryLines(summary).length < 30);
});
