import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { LedgerflowError } from '../domain/errors';
import { ensureDir } from './layout';
import { tailFile } from './process';

/** Install helpers: one-off commands with logged output, markers that make installs idempotent, apt. */

export interface StepOptions {
  /** Human name of the step, quoted in errors ("mvn dependency:copy-dependencies (kafka jars)"). */
  step: string;
  logFile: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

/** Runs a command to completion, appending its output to logFile; LF_INSTALL naming the step on failure. */
export function runStep(command: string, args: string[], opts: StepOptions): Promise<void> {
  ensureDir(path.dirname(opts.logFile));
  const fd = fs.openSync(opts.logFile, 'a');
  fs.writeSync(fd, `\n==== ${new Date().toISOString()} ${opts.step}: ${command} ${args.join(' ')}\n`);
  return new Promise<void>((resolve, reject) => {
    const child = spawn(command, args, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', fd, fd] });
    const fail = (why: string) => {
      const tail = tailFile(opts.logFile, 20);
      reject(
        new LedgerflowError('LF_INSTALL', `install step "${opts.step}" failed: ${why}; full output in ${opts.logFile}\n${tail}`, {
          step: opts.step,
          logFile: opts.logFile,
        }),
      );
    };
    child.once('error', (err) => fail(`cannot run ${command}: ${err.message}`));
    child.once('exit', (code, signal) => (code === 0 ? resolve() : fail(signal ? `killed by ${signal}` : `exit code ${code}`)));
  }).finally(() => fs.closeSync(fd));
}

/**
 * A marker file records that a component is installed (and which version), written only after the
 * install succeeded, so an interrupted install is redone and a finished one never is.
 */
export function hasMarker(file: string, content: string): boolean {
  try {
    return fs.readFileSync(file, 'utf8').trim() === content;
  } catch {
    return false;
  }
}

export function writeMarker(file: string, content: string): void {
  ensureDir(path.dirname(file));
  fs.writeFileSync(file, `${content}\n`);
}

/**
 * Finds an executable on PATH, plus the sbin directories that non-login shells often leave out
 * (Debian puts mariadbd in /usr/sbin). PATH is the OS search path, not a Ledgerflow setting.
 */
export function which(binary: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter), '/usr/local/sbin', '/usr/sbin', '/sbin'];
  for (const dir of dirs) {
    if (!dir) continue;
    const file = path.join(dir, binary);
    try {
      fs.accessSync(file, fs.constants.X_OK);
      if (fs.statSync(file).isFile()) return file;
    } catch {
      // not here
    }
  }
  return undefined;
}

export function requireBinary(binary: string, what: string): string {
  const file = which(binary);
  if (!file) throw new LedgerflowError('LF_INSTALL', `${what}: ${binary} not found on PATH`, binary);
  return file;
}

/** A binary the stack needs and the Debian package that provides it. */
export interface SystemPackage {
  binary: string;
  debianPackage: string;
}

export const isRoot = (): boolean => process.getuid?.() === 0;

/** Installs the missing Debian packages in one apt-get run (dpkg takes one lock, so never in parallel). */
export async function ensureSystemPackages(needs: SystemPackage[], logFile: string, log: (line: string) => void): Promise<void> {
  const missing = [...new Set(needs.filter((n) => !which(n.binary)).map((n) => n.debianPackage))];
  if (missing.length === 0) return;
  await aptInstall(missing, logFile, log);
  const stillMissing = needs.filter((n) => !which(n.binary));
  if (stillMissing.length > 0) {
    throw new LedgerflowError(
      'LF_INSTALL',
      `install step "apt-get install ${missing.join(' ')}" ran but ${stillMissing.map((n) => n.binary).join(', ')} still missing; see ${logFile}`,
      { step: 'apt-get install' },
    );
  }
}

/** apt-get install with the index refreshed only when the plain install fails (a fresh image has none). */
export async function aptInstall(packages: string[], logFile: string, log: (line: string) => void): Promise<void> {
  const step = `apt-get install ${packages.join(' ')}`;
  if (!isRoot()) {
    throw new LedgerflowError(
      'LF_INSTALL',
      `install step "${step}" needs root: run \`sudo apt-get install -y ${packages.join(' ')}\` once, then stack up again`,
      { step },
    );
  }
  log(`stack: installing Debian packages ${packages.join(', ')} (output in ${logFile})`);
  await withServiceStartsBlocked(async () => {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    // Another install of ours (the cluster's builds run beside the test suite) may hold dpkg's
    // lock: wait for it rather than fail.
    const lock = ['-o', 'DPkg::Lock::Timeout=600'];
    const install = () => runStep('apt-get', [...lock, 'install', '-y', '--no-install-recommends', ...packages], { step, logFile, env });
    try {
      await install();
    } catch {
      await runStep('apt-get', [...lock, 'update'], { step: 'apt-get update', logFile, env });
      await install();
    }
  });
}

/**
 * Package scripts would start the system-wide mariadb/prometheus on our ports. Debian's policy-rc.d
 * convention (exit 101 = "do not start") prevents that; an existing policy file is left alone.
 */
async function withServiceStartsBlocked(fn: () => Promise<void>): Promise<void> {
  const policy = '/usr/sbin/policy-rc.d';
  if (fs.existsSync(policy)) return fn();
  fs.writeFileSync(policy, '#!/bin/sh\n# written by ledgerflow stack during apt-get install\nexit 101\n', { mode: 0o755 });
  try {
    await fn();
  } finally {
    fs.rmSync(policy, { force: true });
  }
}
