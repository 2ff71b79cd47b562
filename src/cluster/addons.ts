import { CLUSTER_DOMAIN, ClusterLayout } from './layout';
import { COREDNS_IMAGE, METRICS_SERVER_IMAGE } from './images';

/**
 * The cluster's add-ons as Kubernetes objects: CoreDNS (the cluster DNS, cluster.local only, with
 * no upstream forwarder because the node has no outside) and metrics-server (the resource metrics
 * API autoscaling reads). Both run from the local images, never pulled.
 */

type K8sObject = Record<string, unknown>;

const SYSTEM = 'kube-system';
const nonRoot = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  runAsUser: 65532,
  capabilities: { drop: ['ALL'] },
  seccompProfile: { type: 'RuntimeDefault' },
};

/** Port CoreDNS listens on in its pod: above 1024, so it needs no capability; the Service maps 53 to it. */
const DNS_POD_PORT = 1053;

const COREFILE = `.:${DNS_POD_PORT} {
    errors
    health :8080 {
        lameduck 5s
    }
    ready :8181
    kubernetes ${CLUSTER_DOMAIN} in-addr.arpa ip6.arpa {
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
        ttl 30
    }
    prometheus :9153
    cache 30
    loop
    reload
    loadbalance
}
`;

function coreDns(layout: ClusterLayout): K8sObject[] {
  const labels = { 'k8s-app': 'kube-dns' };
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'coredns', namespace: SYSTEM } },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: 'system:coredns' },
      rules: [
        { apiGroups: [''], resources: ['endpoints', 'services', 'pods', 'namespaces'], verbs: ['list', 'watch'] },
        { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['list', 'watch'] },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: 'system:coredns' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:coredns' },
      subjects: [{ kind: 'ServiceAccount', name: 'coredns', namespace: SYSTEM }],
    },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'coredns', namespace: SYSTEM }, data: { Corefile: COREFILE } },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'coredns', namespace: SYSTEM, labels },
      spec: {
        replicas: 1,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            serviceAccountName: 'coredns',
            priorityClassName: 'system-cluster-critical',
            dnsPolicy: 'Default',
            containers: [
              {
                name: 'coredns',
                image: COREDNS_IMAGE,
                imagePullPolicy: 'Never',
                args: ['-conf', '/etc/coredns/Corefile'],
                ports: [
                  { name: 'dns', containerPort: DNS_POD_PORT, protocol: 'UDP' },
                  { name: 'dns-tcp', containerPort: DNS_POD_PORT, protocol: 'TCP' },
                  { name: 'metrics', containerPort: 9153, protocol: 'TCP' },
                ],
                resources: { requests: { cpu: '50m', memory: '40Mi' }, limits: { memory: '170Mi' } },
                securityContext: nonRoot,
                livenessProbe: { httpGet: { path: '/health', port: 8080 }, initialDelaySeconds: 10, timeoutSeconds: 5 },
                readinessProbe: { httpGet: { path: '/ready', port: 8181 }, periodSeconds: 2 },
                volumeMounts: [{ name: 'config', mountPath: '/etc/coredns', readOnly: true }],
              },
            ],
            volumes: [{ name: 'config', configMap: { name: 'coredns' } }],
          },
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'kube-dns', namespace: SYSTEM, labels: { ...labels, 'kubernetes.io/name': 'CoreDNS' } },
      spec: {
        selector: labels,
        clusterIP: layout.addresses.dnsServiceIp,
        ports: [
          { name: 'dns', port: 53, targetPort: DNS_POD_PORT, protocol: 'UDP' },
          { name: 'dns-tcp', port: 53, targetPort: DNS_POD_PORT, protocol: 'TCP' },
          { name: 'metrics', port: 9153, targetPort: 9153, protocol: 'TCP' },
        ],
      },
    },
  ];
}

function metricsServer(): K8sObject[] {
  const labels = { 'k8s-app': 'metrics-server' };
  const rbac = 'rbac.authorization.k8s.io/v1';
  const sa = [{ kind: 'ServiceAccount', name: 'metrics-server', namespace: SYSTEM }];
  const clusterRoleRef = (name: string) => ({ apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name });
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'metrics-server', namespace: SYSTEM } },
    {
      apiVersion: rbac,
      kind: 'ClusterRole',
      metadata: {
        name: 'system:aggregated-metrics-reader',
        labels: { 'rbac.authorization.k8s.io/aggregate-to-admin': 'true', 'rbac.authorization.k8s.io/aggregate-to-edit': 'true', 'rbac.authorization.k8s.io/aggregate-to-view': 'true' },
      },
      rules: [{ apiGroups: ['metrics.k8s.io'], resources: ['pods', 'nodes'], verbs: ['get', 'list', 'watch'] }],
    },
    {
      apiVersion: rbac,
      kind: 'ClusterRole',
      metadata: { name: 'system:metrics-server' },
      rules: [
        { apiGroups: [''], resources: ['nodes/metrics'], verbs: ['get'] },
        { apiGroups: [''], resources: ['pods', 'nodes'], verbs: ['get', 'list', 'watch'] },
      ],
    },
    {
      apiVersion: rbac,
      kind: 'RoleBinding',
      metadata: { name: 'metrics-server-auth-reader', namespace: SYSTEM },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'extension-apiserver-authentication-reader' },
      subjects: sa,
    },
    { apiVersion: rbac, kind: 'ClusterRoleBinding', metadata: { name: 'metrics-server:system:auth-delegator' }, roleRef: clusterRoleRef('system:auth-delegator'), subjects: sa },
    { apiVersion: rbac, kind: 'ClusterRoleBinding', metadata: { name: 'system:metrics-server' }, roleRef: clusterRoleRef('system:metrics-server'), subjects: sa },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'metrics-server', namespace: SYSTEM, labels },
      spec: { selector: labels, ports: [{ name: 'https', port: 443, targetPort: 'https', protocol: 'TCP' }] },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'metrics-server', namespace: SYSTEM, labels },
      spec: {
        replicas: 1,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            serviceAccountName: 'metrics-server',
            priorityClassName: 'system-cluster-critical',
            containers: [
              {
                name: 'metrics-server',
                image: METRICS_SERVER_IMAGE,
                imagePullPolicy: 'Never',
                args: [
                  '--cert-dir=/tmp', '--secure-port=10250', '--kubelet-preferred-address-types=InternalIP',
                  '--kubelet-use-node-status-port', '--metric-resolution=15s',
                  // The kubelet's serving certificate is signed by the cluster CA, which every namespace gets.
                  '--kubelet-certificate-authority=/etc/cluster-ca/ca.crt',
                ],
                ports: [{ name: 'https', containerPort: 10250, protocol: 'TCP' }],
                resources: { requests: { cpu: '50m', memory: '60Mi' }, limits: { memory: '200Mi' } },
                securityContext: nonRoot,
                readinessProbe: { httpGet: { path: '/readyz', port: 'https', scheme: 'HTTPS' }, periodSeconds: 5, failureThreshold: 3 },
                livenessProbe: { httpGet: { path: '/livez', port: 'https', scheme: 'HTTPS' }, periodSeconds: 10, failureThreshold: 3 },
                volumeMounts: [
                  { name: 'tmp', mountPath: '/tmp' },
                  { name: 'cluster-ca', mountPath: '/etc/cluster-ca', readOnly: true },
                ],
              },
            ],
            volumes: [
              { name: 'tmp', emptyDir: {} },
              { name: 'cluster-ca', configMap: { name: 'kube-root-ca.crt' } },
            ],
          },
        },
      },
    },
    {
      apiVersion: 'apiregistration.k8s.io/v1',
      kind: 'APIService',
      metadata: { name: 'v1beta1.metrics.k8s.io', labels },
      spec: {
        service: { name: 'metrics-server', namespace: SYSTEM },
        group: 'metrics.k8s.io',
        version: 'v1beta1',
        insecureSkipTLSVerify: true,
        groupPriorityMinimum: 100,
        versionPriority: 100,
      },
    },
  ];
}

/** The API server reaches kubelets (logs, exec, port-forward) with the least role made for it. */
const apiServerToKubelet: K8sObject = {
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: 'ClusterRoleBinding',
  metadata: { name: 'ledgerflow:kube-apiserver-kubelet-client' },
  roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:kubelet-api-admin' },
  subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'kube-apiserver-kubelet-client' }],
};

/** Every add-on object, as one `kind: List` document for `kubectl apply --server-side`. */
export function addonManifest(layout: ClusterLayout): string {
  return JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [apiServerToKubelet, ...coreDns(layout), ...metricsServer()] });
}

export const ADDON_DEPLOYMENTS = ['coredns', 'metrics-server'] as const;
