import path from 'node:path';
import { Config } from '../config';
import { ensureDir, writeFileIfChanged } from '../stack/layout';
import { binaryPath } from './binaries';
import { runCommand } from './exec';
import { PAUSE_IMAGE } from './images';
import { CLUSTER_DOMAIN, ClusterLayout, NODE_NAME } from './layout';
import { certFile, CertName, keyFile, serviceAccountKey, serviceAccountPub, writeKubeconfig } from './pki';
import { answersOk } from './probe';

/**
 * The node's long-running processes, each a detached process inside the node's network namespace
 * (`nsenter --net`, so they share this machine's mount namespace: the kubelet's volume mounts are
 * what containerd and runc see). Every listener is on the node's IP or the namespace's loopback.
 */

export type ComponentName = 'etcd' | 'containerd' | 'kube-apiserver' | 'kube-controller-manager' | 'kube-scheduler' | 'kubelet' | 'kube-proxy';

/** Start order; `down` stops them in reverse. */
export const COMPONENT_NAMES: readonly ComponentName[] = ['etcd', 'containerd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubelet', 'kube-proxy'];

export interface ClusterContext {
  config: Config;
  layout: ClusterLayout;
  log: (line: string) => void;
  /** False when bridged traffic bypasses iptables (no br_netfilter): kube-proxy masquerades all. */
  bridgeNetfilter: boolean;
}

export interface NodeComponent {
  name: ComponentName;
  /** Writes config files (idempotent); runs before every start. */
  prepare(ctx: ClusterContext): void;
  /** The program and its arguments (run inside the namespace; they name the cluster directory: see isOurs). */
  command(ctx: ClusterContext): { command: string; args: string[] };
  probe(ctx: ClusterContext, timeoutMs: number): Promise<boolean>;
  readyTimeoutMs: number;
}

const API_PORT = 6443;
export const apiServerUrl = (layout: ClusterLayout) => `https://${layout.addresses.nodeIp}:${API_PORT}`;
const dirOf = (layout: ClusterLayout, ...parts: string[]) => ensureDir(path.join(layout.root, ...parts));
const kubeconfigOf = (layout: ClusterLayout, user: CertName) => path.join(layout.root, 'kubeconfigs', `${user}.kubeconfig`);
const cert = (layout: ClusterLayout, name: CertName) => certFile(layout, name);
const key = (layout: ClusterLayout, name: CertName) => keyFile(layout, name);
const insecure = { insecure: true };

const etcd: NodeComponent = {
  name: 'etcd',
  readyTimeoutMs: 60_000,
  prepare: (ctx) => void dirOf(ctx.layout, 'etcd'),
  command: ({ config, layout }) => ({
    command: binaryPath(config, 'etcd'),
    args: [
      '--name=ledgerflow', `--data-dir=${path.join(layout.root, 'etcd')}`,
      '--listen-client-urls=https://127.0.0.1:2379', '--advertise-client-urls=https://127.0.0.1:2379',
      '--listen-peer-urls=http://127.0.0.1:2380', '--initial-advertise-peer-urls=http://127.0.0.1:2380',
      '--initial-cluster=ledgerflow=http://127.0.0.1:2380', `--listen-metrics-urls=http://${layout.addresses.nodeIp}:2381`,
      `--cert-file=${cert(layout, 'etcd-server')}`, `--key-file=${key(layout, 'etcd-server')}`,
      '--client-cert-auth=true', `--trusted-ca-file=${cert(layout, 'etcd-ca')}`,
      '--snapshot-count=10000', '--quota-backend-bytes=2147483648', '--log-level=warn',
    ],
  }),
  probe: ({ layout }, ms) => answersOk(`http://${layout.addresses.nodeIp}:2381/health`, ms),
};

function containerdConfig(layout: ClusterLayout): string {
  const cri = 'plugins."io.containerd.grpc.v1.cri"';
  return `# written by ledgerflow cluster; see src/cluster/components.ts
version = 2
root = "${path.join(layout.root, 'containerd')}"
state = "${path.join(layout.runtimeDir, 'containerd')}"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.tracing.processor.v1.otlp"]

[grpc]
  address = "${layout.containerdSocket}"

[plugins."io.containerd.internal.v1.opt"]
  path = "${path.join(layout.root, 'containerd-opt')}"

[${cri}]
  sandbox_image = "${PAUSE_IMAGE}"
  # Negative OOM scores are refused on this kind of machine; containerd then keeps them at 0 or above.
  restrict_oom_score_adj = true
  # Pod network namespaces under containerd's own state, not the machine-wide /run/netns.
  netns_mounts_under_state_dir = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false

[${cri}.containerd]
  snapshotter = "overlayfs"
  default_runtime_name = "runc"

[${cri}.containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"

[${cri}.containerd.runtimes.runc.options]
  SystemdCgroup = false
  BinaryName = "runc"
  Root = "${path.join(layout.runtimeDir, 'runc')}"

[${cri}.cni]
  bin_dir = "/usr/lib/cni"
  conf_dir = "${path.join(layout.root, 'cni', 'net.d')}"
`;
}

/** The pod network: one bridge in the node's namespace, host-local addresses, hairpin for Service loops. */
function cniConfig(layout: ClusterLayout): string {
  const { podCidr } = layout.addresses;
  return `${JSON.stringify(
    {
      cniVersion: '1.0.0',
      name: `ledgerflow-${layout.id}`,
      plugins: [
        {
          type: 'bridge',
          bridge: layout.bridge,
          isGateway: true,
          ipMasq: false,
          hairpinMode: true,
          ipam: { type: 'host-local', ranges: [[{ subnet: podCidr }]], routes: [{ dst: '0.0.0.0/0' }], dataDir: path.join(layout.root, 'cni', 'ipam') },
        },
        { type: 'portmap', capabilities: { portMappings: true } },
      ],
    },
    null,
    2,
  )}\n`;
}

const containerd: NodeComponent = {
  name: 'containerd',
  readyTimeoutMs: 30_000,
  prepare: ({ layout }) => {
    writeFileIfChanged(path.join(layout.root, 'containerd.toml'), containerdConfig(layout));
    writeFileIfChanged(path.join(layout.root, 'cni', 'net.d', '10-ledgerflow.conflist'), cniConfig(layout));
    ensureDir(layout.runtimeDir, 0o700);
  },
  command: ({ layout }) => ({ command: 'containerd', args: ['--config', path.join(layout.root, 'containerd.toml'), '--log-level', 'warn'] }),
  probe: async ({ layout }, ms) => (await runCommand('ctr', ['--address', layout.containerdSocket, 'version'], { timeoutMs: ms })).code === 0,
};

const apiServer: NodeComponent = {
  name: 'kube-apiserver',
  readyTimeoutMs: 120_000,
  prepare: ({ layout }) => {
    // Every component's kubeconfig; the admin's is the one `cluster kubeconfig` prints.
    const server = apiServerUrl(layout);
    for (const user of ['admin', 'controller-manager', 'scheduler', 'kubelet', 'kube-proxy'] as const) writeKubeconfig(layout, kubeconfigOf(layout, user), user, server);
  },
  command: ({ config, layout }) => {
    const { nodeIp, serviceCidr } = layout.addresses;
    return {
      command: binaryPath(config, 'kubernetes', 'kube-apiserver'),
      args: [
        `--advertise-address=${nodeIp}`, `--bind-address=${nodeIp}`, `--secure-port=${API_PORT}`,
        '--etcd-servers=https://127.0.0.1:2379', `--etcd-cafile=${cert(layout, 'etcd-ca')}`,
        `--etcd-certfile=${cert(layout, 'apiserver-etcd-client')}`, `--etcd-keyfile=${key(layout, 'apiserver-etcd-client')}`,
        `--service-cluster-ip-range=${serviceCidr}`,
        `--service-account-issuer=https://kubernetes.default.svc.${CLUSTER_DOMAIN}`,
        `--service-account-key-file=${serviceAccountPub(layout)}`, `--service-account-signing-key-file=${serviceAccountKey(layout)}`,
        `--tls-cert-file=${cert(layout, 'apiserver')}`, `--tls-private-key-file=${key(layout, 'apiserver')}`,
        `--client-ca-file=${cert(layout, 'ca')}`,
        `--kubelet-client-certificate=${cert(layout, 'apiserver-kubelet-client')}`, `--kubelet-client-key=${key(layout, 'apiserver-kubelet-client')}`,
        '--kubelet-preferred-address-types=InternalIP',
        '--authorization-mode=Node,RBAC', '--enable-admission-plugins=NodeRestriction', '--allow-privileged=true',
        // The aggregation layer (metrics.k8s.io is served by metrics-server through it).
        `--requestheader-client-ca-file=${cert(layout, 'front-proxy-ca')}`, '--requestheader-allowed-names=front-proxy-client',
        '--requestheader-extra-headers-prefix=X-Remote-Extra-', '--requestheader-group-headers=X-Remote-Group',
        '--requestheader-username-headers=X-Remote-User',
        `--proxy-client-cert-file=${cert(layout, 'front-proxy-client')}`, `--proxy-client-key-file=${key(layout, 'front-proxy-client')}`,
        '--enable-aggregator-routing=true', '--profiling=false', '--event-ttl=1h',
      ],
    };
  },
  probe: ({ layout }, ms) => answersOk(`${apiServerUrl(layout)}/readyz`, ms, { ca: cert(layout, 'ca'), cert: cert(layout, 'admin'), key: key(layout, 'admin') }),
};

const controllerManager: NodeComponent = {
  name: 'kube-controller-manager',
  readyTimeoutMs: 60_000,
  prepare: () => undefined,
  command: ({ config, layout }) => {
    const kubeconfig = kubeconfigOf(layout, 'controller-manager');
    return {
      command: binaryPath(config, 'kubernetes', 'kube-controller-manager'),
      args: [
        `--kubeconfig=${kubeconfig}`, `--authentication-kubeconfig=${kubeconfig}`, `--authorization-kubeconfig=${kubeconfig}`,
        `--bind-address=${layout.addresses.nodeIp}`, '--secure-port=10257', `--cert-dir=${dirOf(layout, 'serving', 'controller-manager')}`,
        `--cluster-signing-cert-file=${cert(layout, 'ca')}`, `--cluster-signing-key-file=${key(layout, 'ca')}`,
        `--root-ca-file=${cert(layout, 'ca')}`, `--service-account-private-key-file=${serviceAccountKey(layout)}`,
        '--use-service-account-credentials=true', `--service-cluster-ip-range=${layout.addresses.serviceCidr}`,
        '--allocate-node-cidrs=false', '--leader-elect=false', '--profiling=false',
      ],
    };
  },
  probe: ({ layout }, ms) => answersOk(`https://${layout.addresses.nodeIp}:10257/healthz`, ms, insecure),
};

const scheduler: NodeComponent = {
  name: 'kube-scheduler',
  readyTimeoutMs: 60_000,
  prepare: () => undefined,
  command: ({ config, layout }) => {
    const kubeconfig = kubeconfigOf(layout, 'scheduler');
    return {
      command: binaryPath(config, 'kubernetes', 'kube-scheduler'),
      args: [
        `--kubeconfig=${kubeconfig}`, `--authentication-kubeconfig=${kubeconfig}`, `--authorization-kubeconfig=${kubeconfig}`,
        `--bind-address=${layout.addresses.nodeIp}`, '--secure-port=10259', `--cert-dir=${dirOf(layout, 'serving', 'scheduler')}`,
        '--leader-elect=false', '--profiling=false',
      ],
    };
  },
  probe: ({ layout }, ms) => answersOk(`https://${layout.addresses.nodeIp}:10259/healthz`, ms, insecure),
};

/**
 * cgroupfs without per-QoS cgroups and with no node allocatable enforced: the machine's cgroups are
 * hybrid v1/v2 and shared with everything else on it. Image garbage collection is off, because an
 * image removed here can never be pulled back (there is no registry).
 */
function kubeletConfig(layout: ClusterLayout): string {
  const doc = {
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    address: layout.addresses.nodeIp,
    port: 10250,
    readOnlyPort: 0,
    healthzBindAddress: layout.addresses.nodeIp,
    healthzPort: 10248,
    authentication: { anonymous: { enabled: false }, webhook: { enabled: true }, x509: { clientCAFile: cert(layout, 'ca') } },
    authorization: { mode: 'Webhook' },
    tlsCertFile: cert(layout, 'kubelet-serving'),
    tlsPrivateKeyFile: key(layout, 'kubelet-serving'),
    cgroupDriver: 'cgroupfs',
    cgroupsPerQOS: false,
    enforceNodeAllocatable: [],
    failSwapOn: false,
    containerRuntimeEndpoint: `unix://${layout.containerdSocket}`,
    clusterDNS: [layout.addresses.dnsServiceIp],
    clusterDomain: CLUSTER_DOMAIN,
    // No upstream resolver: nothing outside the node exists for pods.
    resolvConf: path.join(layout.root, 'kubelet', 'resolv.conf'),
    podLogsDir: path.join(layout.root, 'kubelet', 'pod-logs'),
    volumePluginDir: path.join(layout.root, 'kubelet', 'volume-plugins'),
    imageGCHighThresholdPercent: 100,
    imageGCLowThresholdPercent: 99,
    evictionHard: { 'memory.available': '100Mi', 'nodefs.available': '2%', 'imagefs.available': '2%' },
    serializeImagePulls: false,
    maxPods: 110,
    rotateCertificates: false,
    serverTLSBootstrap: false,
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}

const kubelet: NodeComponent = {
  name: 'kubelet',
  readyTimeoutMs: 60_000,
  prepare: ({ layout }) => {
    writeFileIfChanged(path.join(layout.root, 'kubelet', 'config.json'), kubeletConfig(layout));
    writeFileIfChanged(path.join(layout.root, 'kubelet', 'resolv.conf'), '# no upstream resolver: the node has no outside\n');
    for (const d of ['pod-logs', 'volume-plugins', 'root']) dirOf(layout, 'kubelet', d);
  },
  command: ({ config, layout }) => ({
    command: binaryPath(config, 'kubernetes', 'kubelet'),
    args: [
      `--config=${path.join(layout.root, 'kubelet', 'config.json')}`, `--kubeconfig=${kubeconfigOf(layout, 'kubelet')}`,
      `--root-dir=${path.join(layout.root, 'kubelet', 'root')}`, `--cert-dir=${dirOf(layout, 'kubelet', 'pki')}`,
      `--hostname-override=${NODE_NAME}`, `--node-ip=${layout.addresses.nodeIp}`,
    ],
  }),
  probe: ({ layout }, ms) => answersOk(`http://${layout.addresses.nodeIp}:10248/healthz`, ms),
};

function kubeProxyConfig(ctx: ClusterContext): string {
  const { layout } = ctx;
  const { nodeIp, podCidr } = layout.addresses;
  const doc = {
    apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
    kind: 'KubeProxyConfiguration',
    clientConnection: { kubeconfig: kubeconfigOf(layout, 'kube-proxy') },
    mode: 'iptables',
    hostnameOverride: NODE_NAME,
    bindAddress: nodeIp,
    healthzBindAddress: `${nodeIp}:10256`,
    metricsBindAddress: `${nodeIp}:10249`,
    nodePortAddresses: [`${nodeIp}/32`],
    clusterCIDR: podCidr,
    // Leave the machine-wide conntrack table size alone (it is not this namespace's to change).
    conntrack: { maxPerCore: 0, min: 0 },
    iptables: { masqueradeAll: !ctx.bridgeNetfilter, syncPeriod: '30s', minSyncPeriod: '1s' },
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}

const kubeProxy: NodeComponent = {
  name: 'kube-proxy',
  readyTimeoutMs: 60_000,
  prepare: (ctx) => void writeFileIfChanged(path.join(ctx.layout.root, 'kube-proxy.json'), kubeProxyConfig(ctx)),
  command: ({ config, layout }) => ({
    command: binaryPath(config, 'kubernetes', 'kube-proxy'),
    args: [`--config=${path.join(layout.root, 'kube-proxy.json')}`],
  }),
  probe: ({ layout }, ms) => answersOk(`http://${layout.addresses.nodeIp}:10256/healthz`, ms),
};

export const COMPONENTS: Record<ComponentName, NodeComponent> = {
  etcd,
  containerd,
  'kube-apiserver': apiServer,
  'kube-controller-manager': controllerManager,
  'kube-scheduler': scheduler,
  kubelet,
  'kube-proxy': kubeProxy,
};

export const adminKubeconfig = (layout: ClusterLayout) => kubeconfigOf(layout, 'admin');
