import { execFile } from 'node:child_process';
import { LedgerflowError } from '../domain/errors';

/** Short commands of the cluster room (ip, iptables, openssl, kubectl, ctr) with their output. */

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion; never throws for a non-zero exit (callers decide). */
export function runCommand(
  command: string,
  args: string[],
  opts: { input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = execFile(
      command,
      args,
      { timeout: opts.timeoutMs ?? 120_000, maxBuffer: 64 * 1024 * 1024, env: opts.env, cwd: opts.cwd, encoding: 'utf8' },
      (err, stdout, stderr) => {
        const e = err as (NodeJS.ErrnoException & { code?: number | string }) | null;
        const code = e === null ? 0 : typeof e.code === 'number' ? e.code : 127;
        resolve({ code, stdout, stderr: e !== null && typeof e.code === 'string' ? `${stderr}${e.message}` : stderr });
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** Runs a command and returns its stdout; LF_CLUSTER with the command and its stderr on failure. */
export async function mustRun(
  command: string,
  args: string[],
  opts: { input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv; cwd?: string; what?: string } = {},
): Promise<string> {
  const r = await runCommand(command, args, opts);
  if (r.code !== 0) {
    const what = opts.what ?? `${command} ${args.join(' ')}`;
    throw new LedgerflowError('LF_CLUSTER', `${what} failed (exit ${r.code}): ${(r.stderr || r.stdout).trim().slice(0, 2000)}`, { command, args });
  }
  return r.stdout;
}
