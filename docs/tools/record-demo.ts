/**
 * Records what a person sees of the default demo in a real terminal (tmux), into docs/demo.txt:
 *
 *   npx tsx docs/tools/record-demo.ts [--out docs/demo.txt] [--report docs/reports/fraud-demo.json] [-- extra demo flags]
 *
 * It runs `npm run demo -- --exit` on the local stack (the settings of this shell: LF_* variables)
 * and keeps the pane's text. Run on purpose, never by `npm test` (the test of the same output is
 * test/e2e/demo-terminal.test.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { runInTerminal } from '../../test/helpers/tmux';

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({ options: { out: { type: 'string' }, report: { type: 'string' } }, allowPositionals: true });
  const root = path.resolve(__dirname, '..', '..');
  const out = path.resolve(values.out ?? path.join(root, 'docs', 'demo.txt'));
  const env: NodeJS.ProcessEnv = { ...process.env, TERM: 'xterm-256color' };
  delete env.LF_LOG_FORMAT;
  const command = [process.execPath, path.join(root, 'bin', 'ledgerflow.js'), 'demo', '--exit', ...(values.report ? ['--report', path.resolve(values.report)] : []), ...positionals];
  const { screen, exitCode } = await runInTerminal({ command, env, cwd: root, timeoutMs: 30 * 60_000, columns: 140, rows: 70 });
  // The summary shows the local stack's API credential (lf_<id>.<secret>): its secret part never goes into a file in git.
  const shown = screen.replace(/\b(lf_[\w-]+)\.[A-Za-z0-9_-]{16,}/g, '$1.<secret: see .stack/secrets/api-token>');
  const text = `$ npm run demo -- --exit${values.report ? ` --report ${values.report}` : ''}${positionals.length ? ` ${positionals.join(' ')}` : ''}\n${shown}`;
  fs.writeFileSync(out, text);
  process.stdout.write(`${text}\n(${text.split('\n').length - 1} lines written to ${path.relative(process.cwd(), out)}; demo exit ${exitCode})\n`);
  return exitCode;
}

main().then((code) => process.exit(code), (err: Error) => {
  process.stderr.write(`record-demo: ${err.message}\n`);
  process.exit(1);
});
