import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { LedgerflowError } from '../domain/errors';
import { ensureDir, STACK_HOST } from './layout';

/** Process helpers of the local stack: pid files, liveness, ports, detached spawn, log tails. */

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A port nothing listens on right now (the OS picks it), for child processes under test or load. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, STACK_HOST, () => resolve()));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export function readPid(pidFile: string): number | undefined {
  try {
    const pid = Number(fs.readFileSync(pidFile, 'utf8').trim());
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

export function writePid(pidFile: string, pid: number): void {
  ensureDir(path.dirname(pidFile));
  const tmp = `${pidFile}.tmp`;
  fs.writeFileSync(tmp, `${pid}\n`);
  fs.renameSync(tmp, pidFile);
}

export function removeFile(file: string): void {
  fs.rmSync(file, { force: true });
}

/** Alive = signalable and not a zombie (a killed child of this very process may linger as one). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    if (running(`/proc/${pid}/stat`)) return true;
    // A zombie leader is not yet a process gone: after a SIGKILL the main thread of a
    // multi-threaded server (MariaDB, a JVM) is a zombie while its other threads still exit, and
    // those hold its files and listening ports. A restart that believed it gone found its port
    // taken (twice in the 1 M chaos runs). Gone means no thread left but the zombie leader.
    return fs.readdirSync(`/proc/${pid}/task`).some((tid) => {
      try {
        return Number(tid) !== pid && running(`/proc/${pid}/task/${tid}/stat`);
      } catch {
        return false; // the thread exited meanwhile
      }
    });
  } catch {
    return true; // no /proc: trust kill(0)
  }
}

/** Whether the task a /proc stat file describes is neither a zombie nor dead; throws when it is gone. */
function running(statFile: string): boolean {
  const stat = fs.readFileSync(statFile, 'utf8');
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  return state !== 'Z' && state !== 'X';
}

/**
 * Pids are reused, so a stale pid file may name an unrelated process. Every service we start has the
 * absolute stack directory in its command line; that is how we recognise our own processes.
 */
export function isOurs(pid: number, stackRoot: string): boolean {
  if (!isAlive(pid)) return false;
  try {
    // With the trailing separator, ".stack" does not match a sibling ".stack2".
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(path.join(stackRoot, path.sep));
  } catch {
    return true; // no /proc to ask: trust the pid file
  }
}

/**
 * Throws LF_PORT_TAKEN when `port` on `host` cannot be bound, i.e. something else listens there.
 * Binding (not connecting) is the true test: it also catches listeners on 0.0.0.0.
 */
export async function assertPortFree(
  port: number,
  service: string,
  opts: { host?: string; role?: string; setting?: string } = {},
): Promise<void> {
  const host = opts.host ?? STACK_HOST;
  await new Promise<void>((resolve, reject) => {
    const server = net.createServer();
    server.once('error', (err: NodeJS.ErrnoException) => {
      const what = `${service}${opts.role ? ` ${opts.role}` : ''} port ${port} on ${host}`;
      if (err.code === 'EADDRINUSE') {
        const hint = opts.setting ? `; stop that process or change ${opts.setting}` : '; stop that process';
        reject(new LedgerflowError('LF_PORT_TAKEN', `${what} is taken by another process${hint}`, { service, port, host }));
      } else {
        reject(new LedgerflowError('LF_STACK', `${what} cannot be bound: ${err.message}`, { service, port, host }));
      }
    });
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve()));
  });
}

/** True when something accepts TCP connections on host:port within timeoutMs. */
export function portAnswers(port: number, host = STACK_HOST, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Log files are appended to across restarts; one that grew large is set aside first. */
const LOG_ROTATE_BYTES = 64 * 1024 * 1024;

/**
 * Starts a long-running service detached from this process (own session, stdio to its log file,
 * unref'd) so the CLI can exit while the service keeps running. Returns its pid.
 */
export function spawnDetached(
  command: string,
  args: string[],
  opts: { logFile: string; pidFile: string; cwd: string; service: string; env?: NodeJS.ProcessEnv },
): number {
  ensureDir(path.dirname(opts.logFile));
  ensureDir(opts.cwd);
  try {
    if (fs.statSync(opts.logFile).size > LOG_ROTATE_BYTES) fs.renameSync(opts.logFile, `${opts.logFile}.1`);
  } catch {
    // no log yet
  }
  const fd = fs.openSync(opts.logFile, 'a');
  fs.writeSync(fd, `\n==== ledgerflow stack: starting ${opts.service} at ${new Date().toISOString()}: ${command} ${args.join(' ')}\n`);
  try {
    const child = spawn(command, args, { cwd: opts.cwd, env: opts.env, detached: true, stdio: ['ignore', fd, fd] });
    // An ENOENT is reported asynchronously; without a listener it would crash the CLI.
    child.on('error', () => undefined);
    if (child.pid === undefined) {
      throw new LedgerflowError('LF_STACK', `${opts.service}: cannot start ${command} (not found or not executable)`, command);
    }
    child.unref();
    writePid(opts.pidFile, child.pid);
    return child.pid;
  } finally {
    fs.closeSync(fd);
  }
}

/** Sends `signal` and waits up to timeoutMs for the process to be gone; returns whether it is. */
export async function signalAndWait(pid: number, signal: NodeJS.Signals, timeoutMs: number): Promise<boolean> {
  try {
    process.kill(pid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return true;
    throw err;
  }
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return true;
    await sleep(100);
  }
  return !isAlive(pid);
}

/** SIGTERM, a grace period for a clean shutdown (flushes, fsyncs), then SIGKILL. */
export async function stopProcess(pid: number, graceMs: number): Promise<'terminated' | 'killed'> {
  if (await signalAndWait(pid, 'SIGTERM', graceMs)) return 'terminated';
  await signalAndWait(pid, 'SIGKILL', 5000);
  return 'killed';
}

/** The last `lines` lines of a file ('' when there is none); reads only the tail of big files. */
export function tailFile(file: string, lines: number): string {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return '';
  }
  try {
    const size = fs.fstatSync(fd).size;
    const length = Math.min(size, Math.max(64 * 1024, lines * 400));
    const buffer = Buffer.alloc(length);
    fs.readSync(fd, buffer, 0, length, size - length);
    const all = buffer.toString('utf8').replace(/\n+$/, '').split('\n');
    return all.slice(-lines).join('\n');
  } finally {
    fs.closeSync(fd);
  }
}

/** Indents a log tail under an error message so it reads as a quote. */
export function quoteTail(file: string, lines = 15): string {
  const tail = tailFile(file, lines);
  return tail ? `\n--- last lines of ${file} ---\n${tail}` : `\n(${file} is empty or missing)`;
}
