/** The hooks operators expect of a production chart: extra env and volumes, init containers and sidecars,
 * scheduling per component, tunable probes, the api's preStop drain, Ingress/HTTPRoute, the rules as a
 * PrometheusRule, and `global` so the chart runs as a subchart. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import YAML from 'yaml';
import { REPO_ROOT, helm, KUBE_VERSION } from '../../helpers/k8s-tools';
import { CHART_DIR, componentName, copyChart, K8sObject, mustFind, parseManifests, render } from './render';

interface Container { name: string; env?: Array<{ name: string }>; envFrom?: unknown[]; volumeMounts?: Array<{ name: string }>; securityContext?: Record<string, unknown>; livenessProbe?: Record<string, unknown>; readinessProbe?: Record<string, unknown>; lifecycle?: unknown }
interface PodSpec { containers: Container[]; initContainers?: Container[]; volumes?: Array<{ name: string }>; nodeSelector?: Record<string, string>; tolerations?: unknown[]; priorityClassName?: string; topologySpreadConstraints?: Array<{ labelSelector?: unknown }>; terminationGracePeriodSeconds?: number }
const podOf = (objects: K8sObject[], component: string): PodSpec =>
  (mustFind(objects, 'Deployment', componentName(component)).spec as { template: { spec: PodSpec } }).template.spec;

const production = render({ valuesFiles: ['charts/ledgerflow/ci/production-keda-values.yaml'] });

test('extra env, envFrom, volumes and mounts reach the process container; a private CA is one value away', () => {
  const consumer = podOf(production, 'consumer');
  const main = consumer.containers[0]!;
  assert.ok(main.env?.some((e) => e.name === 'NODE_EXTRA_CA_CERTS'));
  assert.ok(consumer.volumes?.some((v) => v.name === 'private-ca'));
  assert.ok(main.volumeMounts?.some((m) => m.name === 'private-ca'));
  assert.ok(main.env?.some((e) => e.name === 'LF_DB_PASSWORD'), 'the chart\'s own env stays');
  const worker = podOf(production, 'worker').containers[0]!;
  assert.deepEqual(worker.envFrom?.[1], { configMapRef: { name: 'ledgerflow-worker-tuning' } });
});

test('init containers and sidecars run restricted unless they bring their own securityContext', () => {
  const init = podOf(production, 'api').initContainers?.[0];
  const sidecar = podOf(production, 'worker').containers[1];
  assert.equal(init?.name, 'wait-for-keys');
  assert.equal(sidecar?.name, 'log-shipper');
  for (const c of [init, sidecar]) {
    assert.equal(c?.securityContext?.readOnlyRootFilesystem, true);
    assert.equal(c?.securityContext?.allowPrivilegeEscalation, false);
  }
  const own = render({ set: ['consumer.sidecars[0].securityContext.runAsUser=1000'], setString: ['consumer.sidecars[0].name=s', 'consumer.sidecars[0].image=i'] });
  assert.deepEqual(podOf(own, 'consumer').containers[1]?.securityContext, { runAsUser: 1000 });
});

test('scheduling per component: nodeSelector merged over the common one, spread constraints select the component, priority class', () => {
  const worker = podOf(production, 'worker');
  assert.deepEqual(worker.nodeSelector, { workload: 'ledgerflow', 'workload-class': 'cpu-optimised' });
  assert.equal(worker.priorityClassName, 'ledgerflow-pipeline');
  assert.deepEqual(worker.topologySpreadConstraints?.[0]?.labelSelector, {
    matchLabels: { 'app.kubernetes.io/name': 'ledgerflow', 'app.kubernetes.io/instance': 'lf', 'app.kubernetes.io/component': 'worker' },
  });
  assert.equal(podOf(production, 'api').priorityClassName, undefined);
  const tolerations = render({ valuesFiles: ['charts/ledgerflow/ci/external-metrics-values.yaml'] });
  assert.equal((podOf(tolerations, 'worker').tolerations as Array<{ value: string }>)[0]?.value, 'ledgerflow-worker');
  assert.equal(podOf(tolerations, 'consumer').tolerations, undefined);
});

test('probe timing is tunable; the check itself is not', () => {
  const liveness = podOf(production, 'consumer').containers[0]?.livenessProbe;
  assert.deepEqual(liveness, { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 15, timeoutSeconds: 5, failureThreshold: 4 });
  const hijack = render({ setString: ['worker.probes.readiness.httpGet.path=/metrics'] });
  assert.deepEqual(podOf(hijack, 'worker').containers[0]?.readinessProbe?.httpGet, { path: '/readyz', port: 'http' });
});

test('the api sleeps in preStop before its drain, and its grace period holds both', () => {
  for (const [sleepS, graceMs] of [[10, 25000], [0, 25000], [30, 5000]] as const) {
    const objects = render({ set: [`api.preStopSleepSeconds=${sleepS}`, `shutdownGraceMs=${graceMs}`] });
    const api = podOf(objects, 'api');
    assert.deepEqual(api.containers[0]?.lifecycle, sleepS > 0 ? { preStop: { sleep: { seconds: sleepS } } } : undefined);
    assert.equal(api.terminationGracePeriodSeconds, sleepS + Math.ceil(graceMs / 1000) + 10);
    assert.equal(podOf(objects, 'consumer').terminationGracePeriodSeconds, Math.ceil(graceMs / 1000) + 10);
  }
});

test('Ingress and HTTPRoute send clients to the api Service', () => {
  const ingress = mustFind(production, 'Ingress', componentName('api')).spec as { ingressClassName: string; tls: unknown[]; rules: Array<{ host: string; http: { paths: Array<{ backend: unknown }> } }> };
  assert.equal(ingress.ingressClassName, 'nginx');
  assert.deepEqual(ingress.tls, [{ hosts: ['ledgerflow.example.com'], secretName: 'ledgerflow-example-com-tls' }]);
  assert.deepEqual(ingress.rules[0]?.http.paths[0]?.backend, { service: { name: componentName('api'), port: { name: 'http' } } });
  const route = mustFind(render({ valuesFiles: ['charts/ledgerflow/ci/external-metrics-values.yaml'] }), 'HTTPRoute', componentName('api')).spec as { parentRefs: unknown[]; rules: Array<{ backendRefs: unknown[] }> };
  assert.deepEqual(route.parentRefs, [{ name: 'public', namespace: 'gateway-system', sectionName: 'https' }]);
  assert.deepEqual(route.rules[0]?.backendRefs, [{ name: componentName('api'), port: 8080 }]);
});

test('the PrometheusRule carries exactly the groups of grafana/prometheus/ledgerflow.rules.yml', () => {
  const source = YAML.parse(fs.readFileSync(path.join(REPO_ROOT, 'grafana', 'prometheus', 'ledgerflow.rules.yml'), 'utf8')) as { groups: unknown[] };
  const rule = mustFind(production, 'PrometheusRule', 'lf-ledgerflow') as K8sObject & { spec: { groups: unknown[] } };
  assert.deepEqual(rule.spec.groups, source.groups);
  assert.equal(rule.metadata.labels?.release, 'kube-prometheus-stack');
  assert.ok(!render().some((o) => o.kind === 'PrometheusRule'), 'off by default');
});

test('as a subchart: a parent\'s global values and its overrides of ours pass the schema', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lf-parent-'));
  try {
    const parent = path.join(tmp, 'parent');
    fs.mkdirSync(path.join(parent, 'charts'), { recursive: true });
    fs.renameSync(copyChart(tmp), path.join(parent, 'charts', 'ledgerflow'));
    fs.writeFileSync(path.join(parent, 'Chart.yaml'), 'apiVersion: v2\nname: platform\nversion: 1.0.0\n');
    fs.writeFileSync(path.join(parent, 'values.yaml'), 'global:\n  imageRegistry: registry.example.com\n  storageClass: fast\nledgerflow:\n  kafka:\n    partitions: 6\n');
    const objects = parseManifests(helm(['template', 'p', parent, '--kube-version', KUBE_VERSION]));
    assert.equal((mustFind(objects, 'HorizontalPodAutoscaler', 'p-ledgerflow-consumer').spec as { maxReplicas: number }).maxReplicas, 6);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  assert.ok(fs.existsSync(CHART_DIR));
});
