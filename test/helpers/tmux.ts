import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureSystemPackages } from '../../src/stack/install';

/**
 * Runs a command in a real terminal (a detached tmux session of a given size) and returns what a
 * person would have seen: the pane's text, scrollback included, once the command has exited.
 */
export async function runInTerminal(options: {
  command: string[];
  env: NodeJS.ProcessEnv;
  cwd: string;
  timeoutMs: number;
  columns?: number;
  rows?: number;
  /** Called with the screen while the command runs (e.g. to catch the live progress line). */
  onScreen?: (screen: string) => void;
}): Promise<{ screen: string; exitCode: number }> {
  await ensureSystemPackages([{ binary: 'tmux', debianPackage: 'tmux' }], path.join(os.tmpdir(), 'ledgerflow-apt-tmux.log'), () => undefined);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ledgerflow-tmux-'));
  const socket = path.join(dir, 'socket');
  const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const script = path.join(dir, 'run.sh');
  const exports = Object.entries(options.env).filter(([, v]) => v !== undefined).map(([k, v]) => `export ${k}=${quote(String(v))}`);
  // The exit code is printed after the command so the test knows it ended; the shell then waits
  // so the pane (and its text) outlives the command.
  fs.writeFileSync(script, ['#!/bin/sh', ...exports, `cd ${quote(options.cwd)}`, `${options.command.map(quote).join(' ')}`, 'echo "[exit $?]"', 'sleep 3600', ''].join('\n'), { mode: 0o700 });
  const tmux = (...args: string[]) => execFileSync('tmux', ['-S', socket, ...args], { encoding: 'utf8' });
  tmux('new-session', '-d', '-s', 'run', '-x', String(options.columns ?? 150), '-y', String(options.rows ?? 60), script);
  tmux('set-option', '-t', 'run', 'history-limit', '5000');
  const capture = () => tmux('capture-pane', '-p', '-J', '-S', '-', '-t', 'run').replace(/\n+$/, '\n');
  const deadline = Date.now() + options.timeoutMs;
  try {
    for (;;) {
      const screen = capture();
      const ended = /\[exit (\d+)\]/.exec(screen);
      if (ended) return { screen: screen.slice(0, ended.index).replace(/\s+$/, '\n'), exitCode: Number(ended[1]) };
      options.onScreen?.(screen);
      if (Date.now() > deadline) throw new Error(`the command did not end within ${options.timeoutMs / 1000} s; the screen:\n${screen}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  } finally {
    try {
      tmux('kill-server');
    } catch {
      // already gone
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
