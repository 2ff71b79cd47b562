#!/usr/bin/env node
'use strict';
/**
 * The `ledgerflow` command (package.json "bin"). From a clone it runs the TypeScript sources
 * through tsx, so `npx ledgerflow …` needs no build step; where only the compiled CLI ships (the
 * image, a packed install without tsx) it runs dist/.
 */
const fs = require('node:fs');
const path = require('node:path');
const { pathToFileURL } = require('node:url');
const { spawn } = require('node:child_process');

const root = path.join(__dirname, '..');
const source = path.join(root, 'src', 'cli.ts');

function tsxLoader() {
  try {
    return pathToFileURL(require.resolve('tsx', { paths: [root] })).href;
  } catch {
    return undefined;
  }
}

const loader = fs.existsSync(source) ? tsxLoader() : undefined;
if (!loader) {
  require(path.join(root, 'dist', 'src', 'cli.js'));
} else {
  // The loader goes on the child's command line, so the processes it starts in turn (the demo's
  // consumer, worker and api) inherit it through process.execArgv.
  const child = spawn(process.execPath, ['--import', loader, source, ...process.argv.slice(2)], { stdio: 'inherit' });
  // Ctrl-C reaches the child from the terminal itself (same process group): passing SIGINT on as
  // well would make it a second one, which ends a graceful shutdown early. Others are passed on.
  process.on('SIGINT', () => undefined);
  for (const signal of ['SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => {
    if (signal) {
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
    } else process.exit(code ?? 1);
  });
}
