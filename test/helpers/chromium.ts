import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Debian's chromium, not Playwright's download: the machine reaches package registries only. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
];

function aptGet(args: string[]): { ok: boolean; output: string } {
  const run = spawnSync('apt-get', args, {
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  return { ok: run.status === 0, output: `${run.stdout ?? ''}${run.stderr ?? ''}`.slice(-4_000) };
}

/**
 * Installs Debian's chromium when it is missing (idempotent). Returns how long the install took
 * in milliseconds (0 when it was already there).
 */
export function ensureChromium(): number {
  if (fs.existsSync(CHROMIUM_PATH)) return 0;
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw new Error(`${CHROMIUM_PATH} is missing and installing it needs root: run \`apt-get install -y chromium\` as root`);
  }
  const started = Date.now();
  const install = ['install', '-y', '--no-install-recommends', 'chromium'];
  let result = aptGet(install);
  if (!result.ok) {
    // A fresh image has empty package lists; refresh them once and try again.
    const update = aptGet(['update']);
    if (!update.ok) throw new Error(`apt-get update failed:\n${update.output}`);
    result = aptGet(install);
  }
  if (!result.ok || !fs.existsSync(CHROMIUM_PATH)) throw new Error(`apt-get install chromium failed:\n${result.output}`);
  return Date.now() - started;
}

/**
 * Launches headless chromium, installing it first if needed. `launch()` gives every browser a
 * fresh temporary profile of its own (and rejects a --user-data-dir argument), removed on close.
 */
export async function launchChromium(): Promise<Browser> {
  ensureChromium();
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
}
