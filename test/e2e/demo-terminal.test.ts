import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { createScratchRun, type ScratchRun } from '../../src/stack/scratch';
import { freePort } from '../helpers/processes';
import { runInTerminal } from '../helpers/tmux';

/**
 * The demo as a person sees it, in a real terminal (tmux): a few start-up lines, a live progress
 * line, a closing summary with the verify result in words and fraud injected vs flagged, and none
 * of the processes' JSON records (they go to files). A small run: 3,000 transactions.
 */
const COUNT = 3_000;
let run: ScratchRun;

before(async () => {
  run = await createScratchRun('demo-tty', { 'fraud.reviewEnabled': true });
});

after(async () => {
  await run?.dispose();
});

test('npm run demo on a terminal: start-up lines, a progress line, a summary, no JSON records', { timeout: 600_000 }, async () => {
  const ports = { 'api.port': await freePort(), 'consumer.httpPort': await freePort(), 'worker.httpPort': await freePort(), 'producer.httpPort': await freePort(), 'worker.sdkMetricsPort': 0 };
  const env: NodeJS.ProcessEnv = { ...run.childEnv(ports), TERM: 'xterm-256color' };
  delete env.LF_LOG_FORMAT;
  let sawLiveProgress = false;
  const { screen, exitCode } = await runInTerminal({
    command: [process.execPath, '--import', 'tsx', path.join('src', 'cli.ts'), 'demo', '--count', String(COUNT), '--rate', '1000', '--exit'],
    env,
    cwd: path.resolve(__dirname, '..', '..'),
    timeoutMs: 540_000,
    onScreen: (s) => {
      if (/produced [\d,]+\/3,000 · committed [\d,]+ · [\d,]+ tx\/s · lag [\d,]+ · DLQ [\d,]+/.test(s) && !/Result ─/.test(s)) sawLiveProgress = true;
    },
  });
  assert.equal(exitCode, 0, screen);
  const lines = screen.trimEnd().split('\n');
  assert.ok(sawLiveProgress, `no progress line while the load ran:\n${screen}`);
  assert.match(screen, /^ {2}kafka +(running on|started, answering on) 127\.0\.0\.1:\d+/m, 'the stack, one line per service');
  assert.match(screen, /^ {2}processes +worker, consumer and api ready in [\d.]+ s; their logs: .*demo\//m);
  assert.match(screen, /produced 3,000\/3,000 · committed [\d,]+ · /, 'the last progress line stays, complete');
  assert.match(screen, /^ {2}verify +✓ all [\d,]+ valid events in Kafka stored exactly once/m, 'verify in words');
  assert.match(screen, /^ {2}fraud +\d+ injected \([\d.]+ %\) · \d+ flagged · precision [\d.]+ · recall [\d.]+/m);
  assert.match(screen, /^ {2}live page +http:\/\/127\.0\.0\.1:\d+\//m);
  // A working credential of the local stack (every scope), to sign in to the live page and call the API.
  assert.match(screen, /^ {2}credential +lf_local\.[A-Za-z0-9_-]+ +\(sign in to the live page with it; also in .*api-token\)/m);
  assert.match(screen, /stack down/);
  for (const line of lines) assert.doesNotMatch(line, /^\s*\{.*"(level|msg)"/, `a raw JSON record reached the terminal: ${line}`);
  assert.ok(lines.length <= 60, `${lines.length} lines:\n${screen}`);
});
