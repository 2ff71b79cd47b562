/** Invariants of the rendered chart: restricted security, resources, probes, scaling caps. */
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { K8sObject, NAMESPACE, componentName, mustFind, find, profiles, render, renderError } from './render';

interface Container {
  name: string;
  args?: string[];
  ports?: { name: string; containerPort: number }[];
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: Record<string, unknown> & { capabilities?: { drop?: string[] } };
  livenessProbe?: { httpGet?: { path: string; port: string } };
  readinessProbe?: { httpGet?: { path: string; port: string } };
}
interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  securityContext?: Record<string, unknown>;
  automountServiceAccountToken?: boolean;
  terminationGracePeriodSeconds?: number;
}

const WORKLOAD_PATH: Record<string, (o: K8sObject) => PodSpec> = {
  Deployment: (o) => (o.spec as { template: { spec: PodSpec } }).template.spec,
  Job: (o) => (o.spec as { template: { spec: PodSpec } }).template.spec,
  Pod: (o) => o.spec as PodSpec,
};

function podSpecs(objects: K8sObject[]): { owner: string; kind: string; pod: PodSpec }[] {
  return objects
    .filter((o) => WORKLOAD_PATH[o.kind])
    .map((o) => ({ owner: `${o.kind}/${o.metadata.name}`, kind: o.kind, pod: WORKLOAD_PATH[o.kind]!(o) }));
}

const all = [{ name: 'defaults', objects: render() }].concat(
  profiles().map((p) => ({ name: path.basename(p), objects: render({ valuesFiles: [p] }) })),
);

test('every container runs restricted: non-root, read-only root FS, no escalation, drop ALL, seccomp RuntimeDefault', () => {
  for (const { name, objects } of all) {
    for (const { owner, pod } of podSpecs(objects)) {
      const where = `${name}: ${owner}`;
      assert.equal(pod.automountServiceAccountToken, false, `${where}: API token mounted`);
      for (const c of [...pod.containers, ...(pod.initContainers ?? [])]) {
        const sc = c.securityContext ?? {};
        const podSc = pod.securityContext ?? {};
        assert.equal(sc.runAsNonRoot ?? podSc.runAsNonRoot, true, `${where}/${c.name}: runAsNonRoot`);
        assert.ok(Number(sc.runAsUser ?? podSc.runAsUser) > 0, `${where}/${c.name}: runAsUser must be a non-zero UID`);
        assert.equal(sc.readOnlyRootFilesystem, true, `${where}/${c.name}: readOnlyRootFilesystem`);
        assert.equal(sc.allowPrivilegeEscalation, false, `${where}/${c.name}: allowPrivilegeEscalation`);
        assert.deepEqual(sc.capabilities?.drop, ['ALL'], `${where}/${c.name}: capabilities.drop`);
        const seccomp = (sc.seccompProfile ?? podSc.seccompProfile) as { type?: string } | undefined;
        assert.equal(seccomp?.type, 'RuntimeDefault', `${where}/${c.name}: seccompProfile`);
        for (const kind of ['requests', 'limits'] as const) {
          for (const resource of ['cpu', 'memory']) {
            assert.ok(c.resources?.[kind]?.[resource], `${where}/${c.name}: resources.${kind}.${resource}`);
          }
        }
      }
    }
  }
});

test('long-running containers have liveness and readiness probes on their own http port', () => {
  const paths: Record<string, [string, string]> = {
    consumer: ['/healthz', '/readyz'], worker: ['/healthz', '/readyz'], api: ['/healthz', '/readyz'],
    producer: ['/metrics', '/metrics'],
  };
  const ports: Record<string, number> = { api: 8080, consumer: 9471, worker: 9472, producer: 9473 };
  for (const { name, objects } of all) {
    for (const { owner, kind, pod } of podSpecs(objects)) {
      if (kind !== 'Deployment') continue;
      // The process is the first container; operators' sidecars follow it.
      assert.ok(paths[pod.containers[0]?.name ?? ''], `${name}: ${owner}: first container ${pod.containers[0]?.name}`);
      for (const c of pod.containers.filter((container) => paths[container.name])) {
        const [live, ready] = paths[c.name] ?? [];
        assert.equal(c.livenessProbe?.httpGet?.path, live, `${name}: ${owner}: liveness`);
        assert.equal(c.readinessProbe?.httpGet?.path, ready, `${name}: ${owner}: readiness`);
        assert.equal(c.livenessProbe?.httpGet?.port, 'http');
        // The worker also serves the Temporal SDK's metrics on a port of their own.
        const sdk = c.name === 'worker' ? [{ name: 'sdk-metrics', containerPort: 9474, protocol: 'TCP' }] : [];
        assert.deepEqual(c.ports, [{ name: 'http', containerPort: ports[c.name], protocol: 'TCP' }, ...sdk]);
      }
    }
  }
});

test('terminationGracePeriodSeconds leaves room for the SIGTERM drain (LF_SHUTDOWN_GRACE_MS)', () => {
  for (const graceMs of [25000, 60000, 1500]) {
    const objects = render({ set: [`shutdownGraceMs=${graceMs}`, 'producer.enabled=true'] });
    const config = mustFind(objects, 'ConfigMap', 'lf-ledgerflow') as { data?: Record<string, string> };
    assert.equal(config.data?.LF_SHUTDOWN_GRACE_MS, String(graceMs));
    for (const { owner, kind, pod } of podSpecs(objects)) {
      if (kind !== 'Deployment') continue;
      assert.ok((pod.terminationGracePeriodSeconds ?? 30) * 1000 >= graceMs + 5000, `${owner}: grace period too short`);
    }
  }
});

function maxOf(objects: K8sObject[], component: string): number {
  const hpa = find(objects, 'HorizontalPodAutoscaler', componentName(component));
  const scaled = find(objects, 'ScaledObject', componentName(component));
  assert.ok(Boolean(hpa) !== Boolean(scaled), `${component}: exactly one of HPA and ScaledObject`);
  const spec = (hpa ?? scaled)!.spec as { maxReplicas?: number; maxReplicaCount?: number; minReplicas?: number; minReplicaCount?: number };
  const min = spec.minReplicas ?? spec.minReplicaCount ?? 1;
  const max = spec.maxReplicas ?? spec.maxReplicaCount ?? 0;
  assert.ok(min >= 1 && min <= max, `${component}: minReplicas ${min} must be within 1..${max}`);
  return max;
}

test('consumer max replicas never exceed kafka.partitions (HPA and KEDA)', () => {
  for (const partitions of [1, 3, 12, 48]) {
    for (const maxReplicas of [0, 5, 1000]) {
      for (const keda of [false, true]) {
        const objects = render({
          set: [`kafka.partitions=${partitions}`, `consumer.autoscaling.maxReplicas=${maxReplicas}`,
            'consumer.autoscaling.minReplicas=1', `keda.enabled=${keda}`],
        });
        const want = maxReplicas === 0 ? partitions : Math.min(maxReplicas, partitions);
        assert.equal(maxOf(objects, 'consumer'), want, `partitions=${partitions} max=${maxReplicas} keda=${keda}`);
      }
    }
  }
});

test('worker max replicas = singlestore.leaves × worker.workersPerLeaf (HPA and KEDA)', () => {
  for (const [leaves, perLeaf] of [[1, 1], [1, 4], [4, 2], [8, 3]] as const) {
    for (const keda of [false, true]) {
      const set = [`singlestore.leaves=${leaves}`, `worker.workersPerLeaf=${perLeaf}`, `keda.enabled=${keda}`];
      assert.equal(maxOf(render({ set }), 'worker'), leaves * perLeaf, set.join(' '));
      // An explicit maxReplicas is honoured below the database's capacity, capped above it.
      assert.equal(maxOf(render({ set: [...set, 'worker.autoscaling.maxReplicas=2'] }), 'worker'), Math.min(2, leaves * perLeaf));
      assert.equal(maxOf(render({ set: [...set, 'worker.autoscaling.maxReplicas=500'] }), 'worker'), leaves * perLeaf);
    }
  }
});

test('KEDA replaces the consumer and worker HPAs; autoscaled Deployments leave replicas to the autoscaler', () => {
  const objects = render({ valuesFiles: ['charts/ledgerflow/ci/production-keda-values.yaml'] });
  for (const component of ['consumer', 'worker']) {
    assert.equal(find(objects, 'HorizontalPodAutoscaler', componentName(component)), undefined);
    const scaled = mustFind(objects, 'ScaledObject', componentName(component)).spec as { scaleTargetRef: { name: string } };
    assert.equal(scaled.scaleTargetRef.name, componentName(component));
  }
  const triggers = (name: string) => (mustFind(objects, 'ScaledObject', componentName(name)).spec as { triggers: { type: string }[] }).triggers;
  assert.equal(triggers('consumer')[0]?.type, 'kafka');
  assert.equal(triggers('worker')[0]?.type, 'temporal');
  mustFind(objects, 'HorizontalPodAutoscaler', componentName('api'));
  for (const component of ['consumer', 'worker', 'api']) {
    assert.equal((mustFind(objects, 'Deployment', componentName(component)).spec as { replicas?: number }).replicas, undefined);
  }
  const dev = render({ valuesFiles: ['charts/ledgerflow/ci/dev-values.yaml'] });
  assert.equal(dev.filter((o) => o.kind === 'HorizontalPodAutoscaler' || o.kind === 'ScaledObject').length, 0);
  assert.equal((mustFind(dev, 'Deployment', componentName('consumer')).spec as { replicas?: number }).replicas, 1);
});

test('one image runs every process, each with its own command; migrations run as a pre-install/pre-upgrade hook', () => {
  const objects = render({ set: ['producer.enabled=true', 'image.repository=example/ledgerflow', 'image.tag=1.2.3'] });
  const commands = podSpecs(objects).map(({ owner, pod }) => ({ owner, container: pod.containers[0] as Container & { image: string } }));
  for (const { owner, container } of commands) assert.equal(container.image, 'example/ledgerflow:1.2.3', owner);
  const args = (kind: string, component: string) =>
    (WORKLOAD_PATH[kind]!(mustFind(objects, kind, componentName(component))).containers[0]?.args ?? [])[0];
  assert.deepEqual(
    ['consumer', 'worker', 'api', 'producer'].map((c) => args('Deployment', c)),
    ['consume', 'work', 'api', 'produce'],
  );
  const job = mustFind(objects, 'Job', componentName('migrate'));
  assert.equal(args('Job', 'migrate'), 'migrate');
  assert.equal(job.metadata.annotations?.['helm.sh/hook'], 'pre-install,pre-upgrade');
  const testPod = objects.find((o) => o.kind === 'Pod');
  assert.equal(testPod?.metadata.annotations?.['helm.sh/hook'], 'test');
  assert.match(JSON.stringify(testPod), new RegExp(`http://${componentName('api')}:8080`));
});

test('tracing and OTLP metrics are off by default; on, they set the OTLP exporter variables and need an endpoint', () => {
  const configOf = (objects: K8sObject[]) => (mustFind(objects, 'ConfigMap', 'lf-ledgerflow').data as Record<string, string>);
  const off = configOf(render());
  assert.equal(off.LF_TRACING_ENABLED, 'false');
  assert.equal(off.OTEL_METRICS_EXPORTER, 'none');
  assert.equal(off.OTEL_EXPORTER_OTLP_ENDPOINT, undefined);
  const on = configOf(render({ set: ['tracing.enabled=true'], setString: ['otel.endpoint=http://collector:4318', 'otel.protocol=http/json'] }));
  assert.equal(on.LF_TRACING_ENABLED, 'true');
  assert.equal(on.OTEL_METRICS_EXPORTER, 'none');
  assert.equal(on.OTEL_EXPORTER_OTLP_ENDPOINT, 'http://collector:4318');
  assert.equal(on.OTEL_EXPORTER_OTLP_PROTOCOL, 'http/json');
  const metrics = configOf(render({ set: ['otel.metrics.enabled=true', 'otel.metrics.exportIntervalMs=15000'], setString: ['otel.endpoint=http://collector:4318'] }));
  assert.equal(metrics.OTEL_METRICS_EXPORTER, 'otlp');
  assert.equal(metrics.OTEL_METRIC_EXPORT_INTERVAL, '15000');
  assert.equal(metrics.OTEL_EXPORTER_OTLP_ENDPOINT, 'http://collector:4318');
  for (const set of ['tracing.enabled=true', 'otel.metrics.enabled=true']) assert.match(renderError({ set: [set] }), /otel\.endpoint is required/);
});

test('with OTLP export on, every pod names itself in the resource: pod, UID and node from the downward API, namespace, release, role', () => {
  const objects = render({ set: ['otel.metrics.enabled=true', 'producer.enabled=true'], setString: ['otel.endpoint=http://collector:4318', 'otel.resourceAttributes.deployment\\.environment\\.name=prod eu'] });
  for (const component of ['consumer', 'worker', 'api', 'producer']) {
    const container = WORKLOAD_PATH.Deployment!(mustFind(objects, 'Deployment', componentName(component))).containers[0] as unknown as { env: Array<{ name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }> };
    const env = new Map(container.env.map((e) => [e.name, e]));
    assert.equal(env.get('OTEL_RESOURCE_ATTRIBUTES_POD_NAME')?.valueFrom?.fieldRef?.fieldPath, 'metadata.name');
    assert.equal(env.get('OTEL_RESOURCE_ATTRIBUTES_POD_UID')?.valueFrom?.fieldRef?.fieldPath, 'metadata.uid');
    assert.equal(env.get('OTEL_RESOURCE_ATTRIBUTES_NODE_NAME')?.valueFrom?.fieldRef?.fieldPath, 'spec.nodeName');
    // The kubelet expands $(VAR) only for variables defined earlier in the list.
    const names = container.env.map((e) => e.name);
    assert.ok(names.indexOf('OTEL_RESOURCE_ATTRIBUTES') > names.indexOf('OTEL_RESOURCE_ATTRIBUTES_NODE_NAME'), component);
    const attrs = Object.fromEntries((env.get('OTEL_RESOURCE_ATTRIBUTES')?.value ?? '').split(',').map((kv) => kv.split('=') as [string, string]));
    assert.equal(attrs['k8s.pod.name'], '$(OTEL_RESOURCE_ATTRIBUTES_POD_NAME)', component);
    assert.equal(attrs['service.instance.id'], '$(OTEL_RESOURCE_ATTRIBUTES_POD_NAME)', component);
    assert.equal(attrs['k8s.namespace.name'], NAMESPACE, component);
    assert.equal(attrs['service.namespace'], 'lf', component);
    assert.equal(attrs['k8s.deployment.name'], componentName(component), component);
    assert.equal(attrs['ledgerflow.role'], component);
    assert.equal(attrs['deployment.environment.name'], 'prod+eu', component);
  }
  // The worker's SDK exports OTLP: no sdk-metrics port to serve or scrape.
  const worker = mustFind(objects, 'Service', componentName('worker')) as unknown as { spec: { ports: Array<{ name: string }> } };
  assert.deepEqual(worker.spec.ports.map((p) => p.name), ['http']);
  const off = render();
  const plain = WORKLOAD_PATH.Deployment!(mustFind(off, 'Deployment', componentName('api'))).containers[0] as unknown as { env?: Array<{ name: string }> };
  assert.ok(!(plain.env ?? []).some((e) => e.name.startsWith('OTEL_')), 'no resource attributes without OTLP export');
});

test('the worker Service exposes the Temporal SDK metrics port and the ServiceMonitor scrapes it', () => {
  const objects = render({ set: ['serviceMonitor.enabled=true'], setString: ['serviceMonitor.apiToken.existingSecret=metrics-token'] });
  const worker = mustFind(objects, 'Service', componentName('worker')) as unknown as { spec: { ports: Array<{ name: string; port: number }> } };
  assert.deepEqual(worker.spec.ports.map((p) => [p.name, p.port]), [['http', 9472], ['sdk-metrics', 9474]]);
  const monitor = mustFind(objects, 'ServiceMonitor', 'lf-ledgerflow') as unknown as { spec: { endpoints: Array<{ port: string }> } };
  assert.deepEqual(monitor.spec.endpoints.map((e) => e.port), ['http', 'sdk-metrics']);
  const config = (mustFind(objects, 'ConfigMap', 'lf-ledgerflow').data as Record<string, string>);
  assert.equal(config.LF_WORKER_SDK_METRICS_PORT, '9474');
});

test("the api's /metrics is scraped with a credential from a Secret, never through pod annotations", () => {
  assert.match(renderError({ set: ['serviceMonitor.enabled=true'] }), /serviceMonitor.enabled needs serviceMonitor.apiToken.existingSecret/);
  const objects = render({ set: ['serviceMonitor.enabled=true'], setString: ['serviceMonitor.apiToken.existingSecret=metrics-token'] });
  type Monitor = { spec: { selector: { matchLabels: Record<string, string>; matchExpressions?: unknown[] }; endpoints: Array<{ port: string; authorization?: unknown }> } };
  const processes = mustFind(objects, 'ServiceMonitor', 'lf-ledgerflow') as unknown as Monitor;
  const api = mustFind(objects, 'ServiceMonitor', 'lf-ledgerflow-api') as unknown as Monitor;
  assert.deepEqual(processes.spec.selector.matchExpressions, [{ key: 'app.kubernetes.io/component', operator: 'NotIn', values: ['api'] }]);
  assert.equal(api.spec.selector.matchLabels['app.kubernetes.io/component'], 'api');
  assert.deepEqual(api.spec.endpoints[0]?.authorization, { type: 'Bearer', credentials: { name: 'metrics-token', key: 'token' } });
  const annotations = (component: string) => ((mustFind(objects, 'Deployment', componentName(component)).spec as { template: { metadata: { annotations: Record<string, string> } } }).template.metadata.annotations);
  assert.equal(annotations('api')['prometheus.io/scrape'], undefined);
  assert.equal(annotations('consumer')['prometheus.io/scrape'], 'true');
});

test('the api mounts its key set from a Secret (no subPath: updates reach the pod) and the helm test checks it refuses strangers', () => {
  const objects = render({ setString: ['api.auth.existingSecret=keys', 'api.auth.key=set.json', 'tests.apiToken.existingSecret=test-token'] });
  type PodSpec = { containers: Array<{ volumeMounts?: Array<{ name: string; mountPath: string; subPath?: string }> }>; volumes?: Array<{ name: string; secret?: { secretName: string; items?: unknown[] } }> };
  const pod = (mustFind(objects, 'Deployment', componentName('api')).spec as { template: { spec: PodSpec } }).template.spec;
  const mount = pod.containers[0]?.volumeMounts?.find((m) => m.name === 'api-keys');
  assert.deepEqual(mount, { name: 'api-keys', mountPath: '/etc/ledgerflow/api-keys', readOnly: true });
  assert.deepEqual(pod.volumes?.find((v) => v.name === 'api-keys')?.secret?.secretName, 'keys');
  const config = mustFind(objects, 'ConfigMap', 'lf-ledgerflow').data as Record<string, string>;
  assert.equal(config.LF_API_KEYS_FILE, '/etc/ledgerflow/api-keys/set.json');
  assert.equal(config.LF_API_SESSION_COOKIE_SECURE, 'true');
  for (const component of ['consumer', 'worker']) {
    const spec = (mustFind(objects, 'Deployment', componentName(component)).spec as { template: { spec: PodSpec } }).template.spec;
    assert.ok(!(spec.volumes ?? []).some((v) => v.name === 'api-keys'), `${component} gets no API keys`);
  }
  const testPod = JSON.stringify(objects.find((o) => o.kind === 'Pod'));
  assert.match(testPod, /open.status !== 401/);
  assert.match(testPod, /"secretName":"test-token"/);
});
