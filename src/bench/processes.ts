import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** A real `ledgerflow <command>` child (the same entry point the CLI and the pods use). */
export interface Child {
  name: string;
  process: ChildProcess;
  /** Last lines of its output, for an error message when it dies. */
  tail(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited. */
  stop(graceMs?: number): Promise<void>;
}

function cliEntry(): string[] {
  // Run from source (tsx) or from the compiled dist/ alike.
  const ts = path.resolve(__dirname, '..', 'cli.ts');
  return fs.existsSync(ts) && __filename.endsWith('.ts') ? ['--import', 'tsx', ts] : [path.resolve(__dirname, '..', 'cli.js')];
}

/** Where children's full output goes (one file per run and process), for diagnosing a slow run. */
export function childLogDir(): string {
  return path.join(os.tmpdir(), 'ledgerflow-bench');
}

export function spawnLedgerflow(name: string, args: string[], env: NodeJS.ProcessEnv, nodeFlags: ReadonlyArray<string> = [], logName?: string): Child {
  const child = spawn(process.execPath, [...nodeFlags, ...cliEntry(), ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  fs.mkdirSync(childLogDir(), { recursive: true });
  const file = logName ? fs.createWriteStream(path.join(childLogDir(), `${logName}.log`)) : undefined;
  child.once('exit', () => file?.end());
  const keep = (chunk: Buffer) => {
    file?.write(chunk);
    lines.push(chunk.toString('utf8'));
    if (lines.length > 50) lines.shift();
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    name,
    process: child,
    tail: () => lines.join('').slice(-4000),
    stop: async (graceMs = 30_000) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}


/** Polls `url` until it answers 200; fails early with the child's output when the child exits. */
export async function waitReady(url: string, child: Child, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.process.exitCode !== null) throw new Error(`${child.name} exited (${child.process.exitCode}) before ready:\n${child.tail()}`);
    const status = await fetch(url).then((r) => r.status, () => 0);
    if (status === 200) return;
    if (Date.now() > deadline) throw new Error(`${child.name} not ready at ${url} within ${timeoutMs} ms:\n${child.tail()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
