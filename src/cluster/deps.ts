import path from 'node:path';
import { Config } from '../config';
import { LedgerflowError } from '../domain/errors';
import { repoRoot } from '../stack/layout';
import { componentEnv } from './lifecycle';
import { runCommand } from './exec';
import { clusterLayout, ClusterLayout } from './layout';
import { netnsExists } from './network';

/**
 * The release's dependencies on the node: a second instance of the project's own local stack
 * (real Kafka, Temporal dev server, MariaDB) started INSIDE the node's network namespace, bound to
 * the node's IP, with a data directory of its own. Pods reach it at the node's IP, as production
 * pods reach an external Kafka, Temporal and SingleStore; in-cluster names come from selector-less
 * Services with EndpointSlices (namespace ledgerflow-deps). This machine reaches it through the
 * veth. See docs/decisions/026-release-dependencies-on-the-node.md.
 */

export const DEPS_NAMESPACE = 'ledgerflow-deps';
export const DEPS_SERVICES = ['kafka', 'temporal', 'mariadb'] as const;
export const DEPS_PORTS = { kafka: 9092, temporal: 7233, mariadb: 3306 } as const;

export const depsStackDir = (layout: ClusterLayout) => path.join(layout.root, 'deps');

/** The settings that point a Ledgerflow process (on this machine) at the node's dependencies. */
export function depsSettings(config: Config): Record<string, string> {
  const layout = clusterLayout(config);
  const { nodeIp, hostIp, podCidr } = layout.addresses;
  return {
    LF_STACK_DIR: depsStackDir(layout),
    LF_STACK_HOST: nodeIp,
    // The dev server reaches its own internal services over loopback (see stack.temporalBindHost).
    LF_STACK_TEMPORAL_BIND_HOST: '0.0.0.0',
    LF_STACK_CLIENT_NETWORKS: `${podCidr},${hostIp}/32`,
    LF_KAFKA_BROKERS: `${nodeIp}:${DEPS_PORTS.kafka}`,
    LF_TEMPORAL_ADDRESS: `${nodeIp}:${DEPS_PORTS.temporal}`,
    LF_DB_HOST: nodeIp,
    LF_DB_PORT: String(DEPS_PORTS.mariadb),
    // The passwords are the deps stack's own files (<deps>/secrets), never the host stack's.
    LF_DB_PASSWORD: '',
    LF_DB_PASSWORD_FILE: '',
    LF_DB_MIGRATION_PASSWORD: '',
    LF_DB_MIGRATION_PASSWORD_FILE: '',
  };
}

/**
 * `ledgerflow stack <args>` with the deps settings, inside the node's namespace, or on this machine
 * (`onHost`) for the installs: the namespace has no route to any package registry.
 */
async function stackInNode(config: Config, args: string[], timeoutMs: number, onHost = false): Promise<string> {
  const layout = clusterLayout(config);
  if (!onHost && !netnsExists(layout)) throw new LedgerflowError('LF_CLUSTER', 'the node is not up (no network namespace): run `ledgerflow cluster up` first');
  // The same CLI that runs now: the TypeScript source through tsx, or the compiled dist/.
  const cli = __filename.endsWith('.ts') ? ['--import', 'tsx', path.join(repoRoot(), 'src', 'cli.ts')] : [path.join(__dirname, '..', 'cli.js')];
  const env = { ...componentEnv(), ...depsSettings(config), LF_STACK_MARIADB_BUFFER_POOL_MB: String(config.stack.mariadbBufferPoolMb || 512) };
  const command = [process.execPath, ...cli, 'stack', ...args];
  const r = onHost
    ? await runCommand(command[0] as string, command.slice(1), { env, timeoutMs, cwd: repoRoot() })
    : await runCommand('nsenter', [`--net=${layout.netnsPath}`, '--', ...command], { env, timeoutMs, cwd: repoRoot() });
  if (r.code !== 0) throw new LedgerflowError('LF_CLUSTER', `stack ${args.join(' ')} in the node failed (exit ${r.code}):\n${(r.stderr || r.stdout).trim().slice(-3000)}`);
  return `${r.stdout}${r.stderr}`;
}

function depsManifest(layout: ClusterLayout): string {
  const items: Record<string, unknown>[] = [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: DEPS_NAMESPACE } }];
  for (const name of DEPS_SERVICES) {
    const port = { name: 'main', port: DEPS_PORTS[name], protocol: 'TCP' };
    items.push(
      { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: DEPS_NAMESPACE }, spec: { ports: [{ ...port, targetPort: DEPS_PORTS[name] }] } },
      {
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: { name: `${name}-node`, namespace: DEPS_NAMESPACE, labels: { 'kubernetes.io/service-name': name, 'endpointslice.kubernetes.io/managed-by': 'ledgerflow-cluster' } },
        addressType: 'IPv4',
        endpoints: [{ addresses: [layout.addresses.nodeIp], conditions: { ready: true } }],
        ports: [port],
      },
    );
  }
  return JSON.stringify({ apiVersion: 'v1', kind: 'List', items });
}

/** Starts (or keeps) the deps stack in the node and publishes its Services. Idempotent. */
export async function depsUp(config: Config, log: (line: string) => void, kubectl: (args: string[], input?: string) => Promise<string>): Promise<void> {
  const t0 = Date.now();
  await stackInNode(config, ['install', ...DEPS_SERVICES], 30 * 60_000, true);
  await stackInNode(config, ['up', ...DEPS_SERVICES], 30 * 60_000);
  await kubectl(['apply', '--server-side', '--force-conflicts', '--field-manager=ledgerflow-cluster', '-f', '-'], depsManifest(clusterLayout(config)));
  log(`cluster: deps (${DEPS_SERVICES.join(', ')}) up in the node in ${((Date.now() - t0) / 1000).toFixed(1)} s; in-cluster at <name>.${DEPS_NAMESPACE}.svc`);
}

/** Stops the deps stack (its data stays in the cluster directory). */
export async function depsDown(config: Config): Promise<void> {
  if (!netnsExists(clusterLayout(config))) return;
  await stackInNode(config, ['down', ...DEPS_SERVICES], 5 * 60_000);
}
