import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mysql from 'mysql2/promise';
import { LedgerflowError } from '../domain/errors';
import { ensureDir, settingLabel } from './layout';
import { hasMarker, isRoot, requireBinary, runStep, which, writeMarker } from './install';
import { provisionDatabase } from './mariadb-users';
import { ensureServiceCerts, serviceCerts } from './certs';
import { ServiceDefinition, StackContext, withinTimeout } from './service';

/**
 * MariaDB from Debian with its own data directory under the stack (the system instance, if any,
 * is never touched). The administrator authenticates by unix socket only: no root password exists.
 */

const INIT_MARKER = 'mariadb-install-db done';
/** Linux limit for a unix socket path (sun_path is 108 bytes including the NUL). */
const SOCKET_PATH_MAX = 107;

export function mariadbPaths(root: string) {
  const home = path.join(root, 'mariadb');
  return {
    home,
    data: path.join(home, 'data'),
    tmp: path.join(home, 'tmp'),
    socket: path.join(root, 'run', 'mariadb.sock'),
    serverPidFile: path.join(root, 'run', 'mariadbd.pid'),
    initMarker: path.join(home, '.initialised'),
  };
}

/** The unix_socket account created by install-db: root, or the invoking OS user when not root. */
export function adminUser(): string {
  return isRoot() ? 'root' : os.userInfo().username;
}

/** An administrator connection over the unix socket (unix_socket auth: no password anywhere). */
export function connectAdmin(root: string, connectTimeoutMs = 5000): Promise<mysql.Connection> {
  return mysql.createConnection({ socketPath: mariadbPaths(root).socket, user: adminUser(), connectTimeout: connectTimeoutMs });
}

function mariadbd(): string {
  return requireBinary('mariadbd', 'MariaDB server');
}

async function prepare(ctx: StackContext): Promise<void> {
  const p = mariadbPaths(ctx.layout.root);
  if (Buffer.byteLength(p.socket) > SOCKET_PATH_MAX) {
    throw new LedgerflowError(
      'LF_STACK',
      `mariadb: socket path ${p.socket} is longer than ${SOCKET_PATH_MAX} bytes; use a shorter ${settingLabel('stack.dir')}`,
    );
  }
  ensureDir(p.tmp);
  ensureDir(path.dirname(p.socket));
  if (ctx.profile === 'secure') await ensureServiceCerts(ctx, 'mariadb');
  if (hasMarker(p.initMarker, INIT_MARKER)) return;
  // The server starts only after the marker is written, so a data dir without it never held data:
  // it is what an interrupted install-db left behind, and is rebuilt.
  fs.rmSync(p.data, { recursive: true, force: true });
  ensureDir(p.data, 0o700);
  const installDb = which('mariadb-install-db') ?? requireBinary('mysql_install_db', 'initialising the MariaDB data dir');
  const logFile = ctx.layout.installLogFile('mariadb');
  ctx.log(`stack: mariadb: initialising data dir ${p.data} (output in ${logFile})`);
  await runStep(
    installDb,
    [
      '--no-defaults', // must come first; ignores /etc/mysql so the system config cannot leak in
      `--datadir=${p.data}`,
      '--auth-root-authentication-method=socket',
      ...(isRoot() ? ['--user=root'] : [`--auth-root-socket-user=${adminUser()}`]),
      '--skip-test-db',
    ],
    { step: 'mariadb-install-db', logFile, cwd: p.home },
  );
  writeMarker(p.initMarker, INIT_MARKER);
}

const BUFFER_POOL_AUTO_MAX_MB = 8192;
/** The secure profile proves connections, not throughput: it runs beside the plain stack, small. */
const SECURE_BUFFER_POOL_MB = 256;
const BUFFER_POOL_MIN_MB = 1024;

/** stack.mariadbBufferPoolMb, or (0) a third of the machine's memory within [1 GiB, 8 GiB]. */
export function bufferPoolMb(settingMb: number, totalMemBytes = os.totalmem()): number {
  if (settingMb > 0) return settingMb;
  const third = Math.floor(totalMemBytes / 3 / 1024 / 1024);
  return Math.max(BUFFER_POOL_MIN_MB, Math.min(BUFFER_POOL_AUTO_MAX_MB, Math.floor(third / 128) * 128));
}

function command(ctx: StackContext) {
  const p = mariadbPaths(ctx.layout.root);
  return {
    command: mariadbd(),
    args: [
      '--no-defaults',
      ...(isRoot() ? ['--user=root'] : []),
      `--datadir=${p.data}`,
      `--tmpdir=${p.tmp}`,
      `--socket=${p.socket}`,
      `--port=${ctx.ports.mariadb}`,
      `--bind-address=${ctx.config.stack.host}`,
      `--pid-file=${p.serverPidFile}`,
      `--log-error=${ctx.layout.logFile('mariadb')}`,
      // No DNS on connect; accounts are therefore granted to 127.0.0.1 and localhost explicitly.
      '--skip-name-resolve',
      '--character-set-server=utf8mb4',
      '--collation-server=utf8mb4_unicode_ci',
      // The ledger's hot pages and secondary indexes must fit: at 1 GiB a 10M-row table (~4 GB with
      // indexes) read history pages from disk (history p99 117 ms at 10M rows; bench/README.md, history step 9).
      `--innodb-buffer-pool-size=${ctx.profile === 'secure' ? SECURE_BUFFER_POOL_MB : bufferPoolMb(ctx.config.stack.mariadbBufferPoolMb)}M`,
      `--innodb-log-file-size=${ctx.profile === 'secure' ? 128 : 512}M`,
      // The default (200 pages/s) is sized for spinning disks: after the 10M-row load the flush was
      // still running 3 minutes later, and its I/O put 7 ms on a 0.2 ms primary-key read (bench/README.md, history step 9).
      '--innodb-io-capacity=2000',
      '--innodb-io-capacity-max=4000',
      // Durability is the point of the exercise: every commit is on disk before it is acknowledged.
      '--innodb-flush-log-at-trx-commit=1',
      '--max-connections=300',
      '--max-allowed-packet=64M',
      ...(ctx.profile === 'secure' ? secureArgs(ctx) : []),
    ],
    cwd: p.home,
  };
}

/**
 * The secure profile: TCP clients must use TLS (require_secure_transport; the admin's unix socket
 * counts as secure), with the stack's own CA; every account also REQUIRES SSL (mariadb-users.ts).
 */
function secureArgs(ctx: StackContext): string[] {
  const certs = serviceCerts(ctx, 'mariadb');
  return [
    `--ssl-ca=${certs.ca}`,
    `--ssl-cert=${certs.server.cert}`,
    `--ssl-key=${certs.server.key}`,
    '--require-secure-transport=ON',
    '--tls-version=TLSv1.2,TLSv1.3',
  ];
}

async function probe(ctx: StackContext, timeoutMs: number): Promise<boolean> {
  let conn: mysql.Connection | undefined;
  const work = (async () => {
    conn = await connectAdmin(ctx.layout.root, timeoutMs);
    await conn.query('SELECT 1');
    return true;
  })();
  try {
    return await withinTimeout(work, timeoutMs);
  } finally {
    await conn?.end().catch(() => undefined);
  }
}

async function afterReady(ctx: StackContext): Promise<void> {
  const conn = await connectAdmin(ctx.layout.root);
  try {
    await provisionDatabase(ctx, conn);
  } catch (err) {
    throw new LedgerflowError(
      'LF_STACK',
      `mariadb: creating database ${ctx.config.db.name} and its users failed: ${(err as Error).message}`,
      err,
    );
  } finally {
    await conn.end().catch(() => undefined);
  }
}

export function mariadbService(ctx: StackContext): ServiceDefinition {
  const p = mariadbPaths(ctx.layout.root);
  return {
    name: 'mariadb',
    address: `${ctx.config.stack.host}:${ctx.ports.mariadb}`,
    ports: [{ port: ctx.ports.mariadb, role: 'SQL', setting: settingLabel('db.port') }],
    // Crash recovery after a SIGKILL replays the redo log before the server answers.
    readyTimeoutMs: 90_000,
    systemPackages: [
      { binary: 'mariadbd', debianPackage: 'mariadb-server' },
      { binary: 'mariadb-install-db', debianPackage: 'mariadb-server' },
      ...(ctx.profile === 'secure' ? [{ binary: 'openssl', debianPackage: 'openssl' }] : []),
    ],
    install: async () => undefined, // the binaries come from Debian (systemPackages)
    prepare,
    command,
    probe,
    afterReady,
    markers: () => [p.initMarker, ...(ctx.profile === 'secure' ? [serviceCerts(ctx, 'mariadb').ca] : [])],
  };
}
