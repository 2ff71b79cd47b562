import path from 'node:path';
import { Config } from '../config';
import { ensureGoBinaries, GoBinaries, goBinariesBuilt, moduleSourceDir } from './gobuild';
import {
  clusterLayout,
  COREDNS_VERSION,
  CRI_TOOLS_VERSION,
  ETCD_VERSION,
  HELM3_VERSION,
  HELM4_VERSION,
  KUBERNETES_STAGING_VERSION,
  KEDA_VERSION,
  KUBERNETES_VERSION,
  METRICS_SERVER_VERSION,
  SKAFFOLD_VERSION,
} from './layout';

/** Every Go binary of the node and its tools, by component, built from the Go module proxy. */

export const COMPONENTS = ['kubernetes', 'etcd', 'coredns', 'metrics-server', 'keda', 'crictl', 'helm3', 'helm4', 'skaffold'] as const;
export type Component = (typeof COMPONENTS)[number];

export const isComponent = (name: string): name is Component => (COMPONENTS as readonly string[]).includes(name);

export const KUBERNETES_COMMANDS = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubelet', 'kube-proxy', 'kubectl'] as const;

/** What `kubectl version` and the API server report (hack/lib/version.sh sets the same). */
function kubernetesVersionFlags(): Record<string, string> {
  const [major = '', minor = ''] = KUBERNETES_VERSION.replace(/^v/, '').split('.');
  const out: Record<string, string> = {};
  for (const pkg of ['k8s.io/client-go/pkg/version', 'k8s.io/component-base/version']) {
    Object.assign(out, {
      [`${pkg}.gitVersion`]: KUBERNETES_VERSION,
      [`${pkg}.gitMajor`]: major,
      [`${pkg}.gitMinor`]: minor,
      [`${pkg}.gitTreeState`]: 'clean',
    });
  }
  return out;
}

type Spec = Omit<GoBinaries, 'logFile' | 'log' | 'cacheRoot'>;

function specs(config: Config): Record<Component, Spec> {
  const layout = clusterLayout(config);
  return {
    kubernetes: {
      module: 'k8s.io/kubernetes',
      version: KUBERNETES_VERSION,
      packages: KUBERNETES_COMMANDS.map((c) => `./cmd/${c}`),
      binaries: [...KUBERNETES_COMMANDS],
      binDir: layout.binDir('kubernetes', KUBERNETES_VERSION),
      ldflagsX: kubernetesVersionFlags(),
      localReplacesAt: { prefix: 'k8s.io/', version: KUBERNETES_STAGING_VERSION },
    },
    etcd: {
      module: 'go.etcd.io/etcd/server/v3',
      version: ETCD_VERSION,
      packages: ['.'],
      binaries: ['etcd'],
      binDir: layout.binDir('etcd', ETCD_VERSION),
      localReplacesAt: { prefix: 'go.etcd.io/etcd/', version: ETCD_VERSION },
    },
    coredns: {
      module: 'github.com/coredns/coredns',
      version: COREDNS_VERSION,
      packages: ['.'],
      binaries: ['coredns'],
      binDir: layout.binDir('coredns', COREDNS_VERSION),
      // Only the plugins the cluster's Corefile uses (addons.ts): the full set links every cloud
      // provider's SDK and took 37 min to build on this loaded 2-core machine.
      keepImports: {
        file: 'core/plugin/zplugin.go',
        keep: ['github.com/coredns/caddy/onevent', ...['cache', 'errors', 'health', 'kubernetes', 'loadbalance', 'log', 'loop', 'metrics', 'ready', 'reload'].map((p) => `github.com/coredns/coredns/plugin/${p}`)],
      },
    },
    'metrics-server': {
      module: 'sigs.k8s.io/metrics-server',
      version: METRICS_SERVER_VERSION,
      packages: ['./cmd/metrics-server'],
      binaries: ['metrics-server'],
      binDir: layout.binDir('metrics-server', METRICS_SERVER_VERSION),
    },
    // The operator and the external-metrics API server; the admission webhooks only check
    // ScaledObjects before they are stored (the chart refuses bad ones at render time): not built.
    keda: {
      module: 'github.com/kedacore/keda/v2',
      version: KEDA_VERSION,
      packages: ['./cmd/operator', './cmd/adapter'],
      binaries: ['operator', 'adapter'],
      binDir: layout.binDir('keda', KEDA_VERSION),
      // What its Makefile sets for a release (the operator logs and reports it).
      ldflagsX: { 'github.com/kedacore/keda/v2/version.Version': KEDA_VERSION.replace(/^v/, '') },
    },
    crictl: {
      module: 'sigs.k8s.io/cri-tools',
      version: CRI_TOOLS_VERSION,
      packages: ['./cmd/crictl'],
      binaries: ['crictl'],
      binDir: layout.binDir('cri-tools', CRI_TOOLS_VERSION),
    },
    helm3: {
      module: 'helm.sh/helm/v3',
      version: HELM3_VERSION,
      packages: ['./cmd/helm'],
      binaries: ['helm'],
      binDir: layout.binDir('helm', HELM3_VERSION),
    },
    helm4: {
      module: 'helm.sh/helm/v4',
      version: HELM4_VERSION,
      packages: ['./cmd/helm'],
      binaries: ['helm'],
      binDir: layout.binDir('helm', HELM4_VERSION),
    },
    skaffold: {
      module: 'github.com/GoogleContainerTools/skaffold/v2',
      version: SKAFFOLD_VERSION,
      packages: ['./cmd/skaffold'],
      binaries: ['skaffold'],
      binDir: layout.binDir('skaffold', SKAFFOLD_VERSION),
      // What its Makefile sets: without it `skaffold version` prints nothing.
      ldflagsX: { 'github.com/GoogleContainerTools/skaffold/v2/pkg/skaffold/version.version': SKAFFOLD_VERSION },
    },
  };
}

/** Path of a component's binary (built or not). */
export function binaryPath(config: Config, component: Component, binary?: string): string {
  const spec = specs(config)[component];
  return path.join(spec.binDir, binary ?? (spec.binaries[0] as string));
}

/**
 * The writable copy of a component's module source the build used (gobuild.ts keeps it beside the
 * binaries): manifests that ship with the module (KEDA's config/) are read from it.
 */
export function componentSource(config: Config, component: Component): string {
  return moduleSourceDir({ ...specs(config)[component], cacheRoot: clusterLayout(config).cacheRoot });
}

export function binariesBuilt(config: Config, component: Component): boolean {
  return goBinariesBuilt(specs(config)[component]);
}

/** Builds the components that the cache does not hold yet, one after another (each uses every core). */
export async function ensureBinaries(config: Config, components: Component[], log: (line: string) => void): Promise<void> {
  const layout = clusterLayout(config);
  const all = specs(config);
  for (const component of components) {
    await ensureGoBinaries({ ...all[component], cacheRoot: layout.cacheRoot, logFile: path.join(layout.cacheRoot, 'logs', `build-${component}.log`), log });
  }
}
