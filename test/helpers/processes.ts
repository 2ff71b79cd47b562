import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

export { freePort } from '../../src/stack/process';

const CLI = path.resolve(__dirname, '..', '..', 'src', 'cli.ts');

/** A real `ledgerflow <command>` process, started the way the CLI and the pods start it. */
export function spawnLedgerflow(command: string, env: NodeJS.ProcessEnv, args: string[] = []): ChildProcess & { output: string[] } {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, command, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] }) as ChildProcess & { output: string[] };
  child.output = [];
  const keep = (chunk: Buffer) => {
    child.output.push(chunk.toString('utf8'));
    if (child.output.length > 200) child.output.shift();
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return child;
}

export function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

export async function waitForStatus(url: string, status: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const got = await fetch(url).then((r) => r.status, () => 0);
    if (got === status) return;
    if (Date.now() > deadline) throw new Error(`${url} did not answer ${status} within ${timeoutMs} ms (last: ${got})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
