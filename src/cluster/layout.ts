import crypto from 'node:crypto';
import path from 'node:path';
import { Config } from '../config';

/**
 * Where everything of the local Kubernetes node lives and which names and addresses it uses.
 * Versions are pinned here: the cache is keyed by them, so a new pin builds beside the old one.
 * See docs/decisions/025-local-kubernetes-node.md.
 */

export const KUBERNETES_VERSION = 'v1.34.2';
/** The staging modules (k8s.io/api, client-go, …) of that release, required instead of ./staging. */
export const KUBERNETES_STAGING_VERSION = 'v0.34.2';
export const ETCD_VERSION = 'v3.6.16';
export const COREDNS_VERSION = 'v1.12.4';
export const METRICS_SERVER_VERSION = 'v0.8.0';
/**
 * KEDA, an addon installed on request (`cluster install keda`): the newest release the machine's Go
 * builds (v2.21.1 needs go >= 1.27.4). See docs/decisions/029-keda-on-the-node.md.
 */
export const KEDA_VERSION = 'v2.21.0';
export const CRI_TOOLS_VERSION = 'v1.34.0';
export const HELM3_VERSION = 'v3.22.0';
export const HELM4_VERSION = 'v4.3.2';
/** The proxy lists no skaffold versions (403), but serves this one by its exact name. */
export const SKAFFOLD_VERSION = 'v2.16.1';
/** The sandbox ("pause") image: upstream's pause.c from the Kubernetes module, built here. */
export const PAUSE_VERSION = '3.10';

export const NODE_NAME = 'ledgerflow-node';
export const CLUSTER_DOMAIN = 'cluster.local';

export interface ClusterAddresses {
  /** The host's end of the veth pair (on this machine's own network namespace). */
  hostIp: string;
  /** The node's IP inside its namespace: API server, kubelet, the release's dependencies. */
  nodeIp: string;
  linkPrefix: number;
  podCidr: string;
  serviceCidr: string;
  /** First Service address: `kubernetes.default`. */
  apiServiceIp: string;
  /** Tenth Service address: the cluster DNS, as kubeadm does. */
  dnsServiceIp: string;
  /** First pod address: the bridge's own address, the pods' gateway. */
  podGatewayIp: string;
}

export interface ClusterLayout {
  /** Short id of this clone's node (hash of its directory): names stay unique per clone. */
  id: string;
  root: string;
  logs: string;
  run: string;
  pki: string;
  /** Sockets and runtime state: a short path (unix sockets allow 107 bytes) on the machine's tmpfs. */
  runtimeDir: string;
  netns: string;
  /** /run/netns/<netns>: what `nsenter --net=` enters. */
  netnsPath: string;
  vethHost: string;
  vethNode: string;
  bridge: string;
  containerdSocket: string;
  /** The admin kubeconfig, written once the API server's certificates exist. */
  kubeconfig: string;
  cacheRoot: string;
  /** Cached binaries of one pinned component: <cache>/cluster/<name>-<version>/bin. */
  binDir(name: string, version: string): string;
  images: string;
  addresses: ClusterAddresses;
  logFile(component: string): string;
  pidFile(component: string): string;
}

export function clusterLayout(config: Config): ClusterLayout {
  const root = path.resolve(config.cluster.dir);
  const id = crypto.createHash('sha256').update(root).digest('hex').slice(0, 6);
  const runtimeDir = path.join('/run', `ledgerflow-${id}`);
  const cacheRoot = path.join(path.resolve(config.cache.dir), 'cluster');
  const logs = path.join(root, 'logs');
  const run = path.join(root, 'run');
  return {
    id,
    root,
    logs,
    run,
    pki: path.join(root, 'pki'),
    runtimeDir,
    netns: `lf-${id}`,
    netnsPath: path.join('/run', 'netns', `lf-${id}`),
    vethHost: `lfh${id}`,
    vethNode: `lfn${id}`,
    bridge: 'lfbr0',
    containerdSocket: path.join(runtimeDir, 'containerd.sock'),
    kubeconfig: path.join(root, 'kubeconfig'),
    cacheRoot,
    binDir: (name, version) => path.join(cacheRoot, `${name}-${version}`, 'bin'),
    images: path.join(cacheRoot, 'images'),
    addresses: clusterAddresses(config),
    logFile: (component) => path.join(logs, `${component}.log`),
    pidFile: (component) => path.join(run, `${component}.pid`),
  };
}

export function clusterAddresses(config: Config): ClusterAddresses {
  const { linkCidr, podCidr, serviceCidr } = config.cluster;
  return {
    hostIp: nthAddress(linkCidr, 1),
    nodeIp: nthAddress(linkCidr, 2),
    linkPrefix: Number(linkCidr.split('/')[1]),
    podCidr,
    serviceCidr,
    apiServiceIp: nthAddress(serviceCidr, 1),
    dnsServiceIp: nthAddress(serviceCidr, 10),
    podGatewayIp: nthAddress(podCidr, 1),
  };
}

/** The n-th address of an IPv4 network ("10.96.0.0/24", 10 → "10.96.0.10"); the config validated the form. */
export function nthAddress(cidr: string, n: number): string {
  const [address = '', prefix = '32'] = cidr.split('/');
  const base = address.split('.').reduce((acc, octet) => acc * 256 + Number(octet), 0);
  if (n >= 2 ** (32 - Number(prefix))) throw new RangeError(`${cidr} has no address number ${n}`);
  const value = base + n;
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}

/** Whether two IPv4 networks share any address. */
export function cidrsOverlap(a: string, b: string): boolean {
  const range = (cidr: string): [number, number] => {
    const [address = '', prefix = '32'] = cidr.split('/');
    const start = address.split('.').reduce((acc, octet) => acc * 256 + Number(octet), 0);
    return [start, start + 2 ** (32 - Number(prefix)) - 1];
  };
  const [a0, a1] = range(a);
  const [b0, b1] = range(b);
  return a0 <= b1 && b0 <= a1;
}
