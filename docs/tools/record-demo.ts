/**
 * Records what a person sees of the default demo in a real terminal (tmux), into docs/demo.txt:
 *
 *   npx tsx docs/tools/record-demo.ts [--out docs/demo.txt] [--note "why the ports differ"] [--report docs/reports/fraud-demo.json] [-- extra demo flags]
 *
 * It runs `npm run demo -- --exit` on the local stack (the settings of this shell: LF_* variables)
 * and keeps the pane's text. Every secret of the stack (API tokens, database passwords, any
 * sensitive setting) is masked before anything is written. A short header names the commit and
 * every setting of this shell that differs from a fresh clone's defaults (ports, usually), so a
 * reader knows which numbers in the recording are not the ones they will see. Run on purpose, never
 * by `npm test` (the test of the same output is test/e2e/demo-terminal.test.ts).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { describeSettings, loadConfig } from '../../src/config';
import { stackLayout } from '../../src/stack/layout';
import { runInTerminal } from '../../test/helpers/tmux';

const TOKEN_MASK = '<secret: see .stack/secrets/api-token>';
const SECRET_MASK = '<secret>';
/** Shorter values are not secrets worth hunting for, and would mask unrelated text. */
const SECRET_MIN_CHARS = 8;

/**
 * The screen with every secret replaced: any API credential by its shape (lf_<id>.<secret>: the id
 * stays, it tells the reader which credential), then every known secret value wherever it occurs.
 */
export function maskSecrets(screen: string, secrets: readonly string[]): string {
  let shown = screen.replace(/\b(lf_[\w-]+)\.[A-Za-z0-9_-]{16,}/g, `$1.${TOKEN_MASK}`);
  const values = [...new Set(secrets.map((s) => s.trim()).filter((s) => s.length >= SECRET_MIN_CHARS))].sort((a, b) => b.length - a.length);
  for (const value of values) shown = shown.split(value).join(SECRET_MASK);
  return shown;
}

/** The stack's generated secrets (files in .stack/secrets/) and every sensitive setting of this shell. */
function knownSecrets(env: NodeJS.ProcessEnv): string[] {
  const config = loadConfig({}, env);
  const dir = stackLayout(config).secrets;
  const files = fs.existsSync(dir) ? fs.readdirSync(dir).map((f) => path.join(dir, f)).filter((f) => fs.statSync(f).isFile()) : [];
  const fromFiles = files.flatMap((f) => fs.readFileSync(f, 'utf8').split('\n'));
  const fromSettings = describeSettings().filter((s) => s.sensitive).map((s) => env[s.env] ?? '');
  const fromEnv = Object.entries(env).filter(([k]) => /PASSWORD|SECRET|TOKEN|API_KEY/i.test(k) && !k.endsWith('_FILE')).map(([, v]) => v ?? '');
  return [...fromFiles, ...fromSettings, ...fromEnv];
}

/** "LF_API_PORT=25280 (default 8080)" for each setting of this shell that a fresh clone does not have. */
function nonDefaultSettings(env: NodeJS.ProcessEnv): string[] {
  return describeSettings()
    .filter((s) => env[s.env] !== undefined && env[s.env] !== String(s.default))
    .map((s) => (s.sensitive ? `${s.env} (set)` : `${s.env}=${env[s.env]} (default ${String(s.default) || 'empty'})`));
}

/** Items joined with `separator` into lines of at most `width` characters, each starting with `prefix`. */
function wrap(items: string[], prefix: string, separator: ', ' | ' ', width = 100): string[] {
  const lines: string[] = [];
  let line = '';
  for (const item of items) {
    const next = line ? `${line}${separator}${item}` : item;
    if (line && prefix.length + next.length > width) {
      lines.push(`${prefix}${line}${separator.trimEnd()}`);
      line = item;
    } else line = next;
  }
  if (line) lines.push(`${prefix}${line}`);
  return lines;
}

function header(root: string, env: NodeJS.ProcessEnv, note: string | undefined, size: { columns: number; rows: number }): string[] {
  const git = (args: string[]) => execFileSync('git', args, { cwd: root, encoding: 'utf8' }).trim();
  const commit = git(['rev-parse', '--short=12', 'HEAD']);
  const dirty = git(['status', '--porcelain', '--', 'src', 'bin', 'sql']) !== '' ? ' with uncommitted changes under src/' : '';
  const changed = nonDefaultSettings(env);
  return [
    `# The demo in a ${size.columns}x${size.rows} tmux pane on ${commit}${dirty}, recorded by \`npx tsx docs/tools/record-demo.ts\`;`,
    '# API tokens and passwords masked. The seed, rates and timings differ on every run.',
    ...(changed.length ? ['# Settings of this recording that differ from a fresh clone (a default run shows the defaults):', ...wrap(changed, '#   ', ', ')] : []),
    ...(note ? wrap(note.split(/\s+/), '# ', ' ') : []),
  ];
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({ options: { out: { type: 'string' }, report: { type: 'string' }, note: { type: 'string' } }, allowPositionals: true });
  const root = path.resolve(__dirname, '..', '..');
  const out = path.resolve(values.out ?? path.join(root, 'docs', 'demo.txt'));
  const env: NodeJS.ProcessEnv = { ...process.env, TERM: 'xterm-256color' };
  delete env.LF_LOG_FORMAT;
  const size = { columns: 140, rows: 70 };
  const command = [process.execPath, path.join(root, 'bin', 'ledgerflow.js'), 'demo', '--exit', ...(values.report ? ['--report', path.resolve(values.report)] : []), ...positionals];
  const { screen, exitCode } = await runInTerminal({ command, env, cwd: root, timeoutMs: 30 * 60_000, ...size });
  // Read after the run: the demo's `stack up` may have created the secrets it then printed.
  const shown = maskSecrets(screen, knownSecrets(process.env));
  const typed = `$ npm run demo -- --exit${values.report ? ` --report ${values.report}` : ''}${positionals.length ? ` ${positionals.join(' ')}` : ''}`;
  const text = [...header(root, process.env, values.note, size), typed, shown].join('\n');
  fs.writeFileSync(out, text);
  process.stdout.write(`${text}\n(${text.split('\n').length - 1} lines written to ${path.relative(process.cwd(), out)}; demo exit ${exitCode})\n`);
  return exitCode;
}

if (require.main === module) {
  main().then((code) => process.exit(code), (err: Error) => {
    process.stderr.write(`record-demo: ${err.message}\n`);
    process.exit(1);
  });
}
