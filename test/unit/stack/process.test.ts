import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { test } from 'node:test';
import { assertPortFree, isAlive } from '../../../src/stack/process';

/**
 * A process whose main thread has exited while another thread still runs: its leader shows as a
 * zombie, yet the process still holds its files and its listening port (what a SIGKILLed MariaDB or
 * JVM looks like for a moment). It is not gone until that thread is.
 */
const SCRIPT = `
import ctypes, socket, threading, time
s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(); print(s.getsockname()[1], flush=True)
threading.Thread(target=lambda: time.sleep(2)).start()
ctypes.CDLL(None).pthread_exit(None)
`;

const leaderState = (pid: number) => {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('a process with a zombie leader and a live thread is alive, and its port stays taken, until the thread ends', async () => {
  const child = spawn('python3', ['-c', SCRIPT], { stdio: ['ignore', 'pipe', 'inherit'] });
  const pid = child.pid as number;
  const port = Number(await new Promise<string>((resolve) => child.stdout.once('data', (d: Buffer) => resolve(d.toString().trim()))));
  for (let i = 0; i < 50 && leaderState(pid) !== 'Z'; i += 1) await sleep(20);
  assert.equal(leaderState(pid), 'Z', 'the main thread has exited');
  assert.equal(isAlive(pid), true);
  await assert.rejects(assertPortFree(port, 'probe'), /taken by another process/);
  const exited = new Promise((resolve) => child.once('exit', resolve));
  for (let i = 0; i < 100 && isAlive(pid); i += 1) await sleep(100);
  assert.equal(isAlive(pid), false, 'gone once its last thread ended');
  await assertPortFree(port, 'probe');
  await exited;
});
