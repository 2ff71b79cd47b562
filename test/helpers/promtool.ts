/**
 * promtool (Prometheus' rule checker and rule unit-test runner) for the rule tests. It comes with the
 * Debian `prometheus` package, which `ledgerflow stack up` installs; nothing is downloaded here.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { which } from '../../src/stack/install';

export const RULES_DIR = path.resolve(__dirname, '..', '..', 'grafana', 'prometheus');

export interface PromtoolResult {
  ok: boolean;
  /** stdout and stderr together: promtool prints its findings to either. */
  output: string;
}

/** The promtool binary, or an error that says how to get it. */
export function promtoolPath(): string {
  const file = which('promtool');
  if (!file) {
    throw new Error(
      'promtool not found on PATH. It ships with the Debian `prometheus` package, which the local stack installs: ' +
        'run `npx tsx src/cli.ts stack up` (or `apt-get install -y prometheus`), then run the tests again.',
    );
  }
  return file;
}

/** Runs promtool with `args` in `cwd`; never throws for a failing check, only for a missing binary. */
export function promtool(args: string[], cwd: string = RULES_DIR, timeoutMs = 60_000): Promise<PromtoolResult> {
  const bin = promtoolPath();
  return new Promise((resolve) => {
    execFile(bin, args, { cwd, timeout: timeoutMs, encoding: 'utf8' }, (err, stdout, stderr) => {
      resolve({ ok: err === null, output: `${stdout}${stderr}`.trim() });
    });
  });
}

export const checkRules = (files: string[], cwd?: string) => promtool(['check', 'rules', ...files], cwd);
export const testRules = (files: string[], cwd?: string) => promtool(['test', 'rules', ...files], cwd);
