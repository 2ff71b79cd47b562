/** Scaling signals and render-time refusals (docs/decisions/028-autoscaling-signals.md). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { componentName, K8sObject, mustFind, render, renderError } from './render';

type Spec = Record<string, unknown>;
const specOf = (objects: K8sObject[], kind: string, component: string): Spec => mustFind(objects, kind, componentName(component)).spec as Spec;
const KEDA_PROFILE = 'charts/ledgerflow/ci/production-keda-values.yaml';
const EXTERNAL_PROFILE = 'charts/ledgerflow/ci/external-metrics-values.yaml';

const REFUSED: Array<{ set: string[]; setString?: string[]; message: RegExp }> = [
  { set: ['consumer.autoscaling.enabled=false', 'consumer.replicas=13', 'kafka.partitions=12'], message: /consumer\.replicas \(13\) is above kafka\.partitions \(12\)/ },
  { set: ['worker.autoscaling.enabled=false', 'worker.replicas=5', 'singlestore.leaves=1', 'worker.workersPerLeaf=4'], message: /worker\.replicas \(5\) is above singlestore\.leaves × worker\.workersPerLeaf \(4\)/ },
  { set: ['db.poolSize=8', 'worker.maxConcurrentActivities=16'], message: /db\.poolSize \(8\) is below worker\.maxConcurrentActivities \(16\)/ },
  { set: ['consumer.autoscaling.minReplicas=5', 'consumer.autoscaling.maxReplicas=3'], message: /consumer\.autoscaling\.minReplicas \(5\) is above its most replicas, 3/ },
  { set: ['consumer.autoscaling.minReplicas=13', 'kafka.partitions=12'], message: /consumer\.autoscaling\.minReplicas \(13\) is above its most replicas, 12 \(capped by kafka\.partitions = 12\)/ },
  { set: ['worker.autoscaling.minReplicas=5', 'singlestore.leaves=1', 'worker.workersPerLeaf=4'], message: /worker\.autoscaling\.minReplicas \(5\) is above its most replicas, 4 \(capped by singlestore/ },
  { set: ['api.autoscaling.minReplicas=7', 'api.autoscaling.maxReplicas=6'], message: /api\.autoscaling\.minReplicas \(7\) is above its most replicas, 6/ },
  { set: ['keda.enabled=true', 'externalMetrics.enabled=true'], message: /keda\.enabled and externalMetrics\.enabled/ },
  { set: ['keda.enabled=true', 'temporal.tls.enabled=true'], message: /Temporal scaler dials TLS only with a client certificate/ },
  { set: ['keda.enabled=true'], setString: ['keda.worker.trigger=prometheus'], message: /keda\.worker\.trigger=prometheus needs keda\.prometheus\.serverAddress/ },
  { set: ['keda.enabled=true', 'keda.fallback.consumerReplicas=13', 'kafka.partitions=12'], message: /keda\.fallback\.consumerReplicas \(13\) is above the consumer's most replicas \(12\)/ },
  { set: ['externalMetrics.enabled=true', 'worker.backlogPollMs=0'], message: /worker\.backlogPollMs is 0/ },
  { set: [], setString: ['worker.autoscaling.queueTypes[0]=nexus'], message: /queueTypes: "nexus" is not a task-queue type/ },
  { set: ['api.httpRoute.enabled=true'], message: /api\.httpRoute\.enabled needs api\.httpRoute\.parentRefs/ },
  { set: ['api.ingress.enabled=true'], setString: ['api.ingress.tlsSecret=cert'], message: /api\.ingress\.tlsSecret needs api\.ingress\.host/ },
  { set: [], setString: ['worker.extraEnv[0].name=LF_DB_PASSWORD', 'worker.extraEnv[0].value=hunter2'], message: /worker\.extraEnv LF_DB_PASSWORD looks sensitive/ },
];

test('inconsistent combinations are refused at render time, each with a message that says what to change', () => {
  for (const { set, setString, message } of REFUSED) {
    assert.match(renderError({ set, setString }), message, [...set, ...(setString ?? [])].join(' '));
  }
});

test('the same combinations one step inside the bounds render', () => {
  for (const set of [
    ['consumer.autoscaling.enabled=false', 'consumer.replicas=12', 'kafka.partitions=12'],
    ['worker.autoscaling.enabled=false', 'worker.replicas=4', 'singlestore.leaves=1', 'worker.workersPerLeaf=4'],
    ['db.poolSize=16', 'worker.maxConcurrentActivities=16'],
    ['consumer.autoscaling.minReplicas=12', 'kafka.partitions=12'],
    ['keda.enabled=true', 'temporal.tls.enabled=true', 'temporal.tls.existingSecret=mtls'],
    ['keda.enabled=true', 'keda.fallback.consumerReplicas=12', 'kafka.partitions=12'],
  ]) {
    assert.ok(render({ set }).length > 10, set.join(' '));
  }
});

test('KEDA: lag and backlog triggers with explicit queueTypes, no enableTLS, a fallback and the values\' behavior', () => {
  const objects = render({ valuesFiles: [KEDA_PROFILE] });
  const consumer = specOf(objects, 'ScaledObject', 'consumer') as { fallback: unknown; advanced: { horizontalPodAutoscalerConfig: { behavior: { scaleDown: { stabilizationWindowSeconds: number } } } }; triggers: Array<{ metadata: Record<string, string> }>; maxReplicaCount: number };
  const worker = specOf(objects, 'ScaledObject', 'worker') as { fallback: unknown; triggers: Array<{ type: string; metadata: Record<string, string>; authenticationRef?: { name: string } }>; maxReplicaCount: number };
  // Derived: 0.8 × 2 × batchesInFlight (4) × batchMaxEvents (1000).
  assert.equal(consumer.triggers[0]?.metadata.lagThreshold, '6400');
  assert.equal(consumer.triggers[0]?.metadata.ensureEvenDistributionOfPartitions, 'true');
  assert.equal(consumer.triggers[0]?.metadata.allowIdleConsumers, 'false');
  assert.deepEqual(consumer.fallback, { failureThreshold: 3, replicas: 48 });
  assert.equal(consumer.advanced.horizontalPodAutoscalerConfig.behavior.scaleDown.stabilizationWindowSeconds, 300);
  const temporal = worker.triggers[0]!;
  assert.equal(temporal.type, 'temporal');
  assert.equal(temporal.metadata.queueTypes, 'workflow,activity');
  assert.equal(temporal.metadata.targetQueueSize, '50');
  assert.equal(temporal.metadata.enableTLS, undefined);
  assert.deepEqual(worker.fallback, { failureThreshold: 3, replicas: 24 });
  assert.doesNotMatch(JSON.stringify(objects), /enableTLS/);
  const auth = mustFind(objects, 'TriggerAuthentication', componentName('temporal')).spec as { secretTargetRef: Array<{ parameter: string }> };
  assert.deepEqual(auth.secretTargetRef.map((r) => r.parameter), ['cert', 'key']);
});

test('KEDA worker on Prometheus: the backlog the workers export, max per queue type', () => {
  const objects = render({ set: ['keda.enabled=true', 'temporal.tls.enabled=true'], setString: ['keda.worker.trigger=prometheus', 'keda.prometheus.serverAddress=http://prometheus:9090'] });
  const trigger = (specOf(objects, 'ScaledObject', 'worker') as { triggers: Array<{ type: string; metadata: Record<string, string> }> }).triggers[0]!;
  assert.equal(trigger.type, 'prometheus');
  assert.equal(trigger.metadata.query, 'sum(max by (queue_type) (ledgerflow_task_queue_backlog{task_queue="ledgerflow", queue_type=~"workflow|activity"}))');
  assert.equal(trigger.metadata.threshold, '20');
});

test('without KEDA, externalMetrics: HPAs on lag and backlog (AverageValue per replica), with behavior; the adapter rules name the same metrics', () => {
  const objects = render({ valuesFiles: [EXTERNAL_PROFILE] });
  type Hpa = { metrics: Array<{ type: string; external?: { metric: { name: string; selector: Spec }; target: { type: string; averageValue: string } } }>; behavior?: { scaleUp?: unknown; scaleDown?: unknown }; maxReplicas: number; minReplicas: number };
  const consumer = specOf(objects, 'HorizontalPodAutoscaler', 'consumer') as Hpa;
  const worker = specOf(objects, 'HorizontalPodAutoscaler', 'worker') as Hpa;
  assert.deepEqual(consumer.metrics.map((m) => m.type), ['External']);
  assert.equal(consumer.metrics[0]?.external?.metric.name, 'ledgerflow_consumer_lag');
  assert.deepEqual(consumer.metrics[0]?.external?.metric.selector, { matchLabels: { topic: 'transactions' } });
  assert.deepEqual(consumer.metrics[0]?.external?.target, { type: 'AverageValue', averageValue: '3200' });
  assert.ok(consumer.behavior?.scaleUp && consumer.behavior.scaleDown);
  assert.equal(consumer.maxReplicas, 12);
  assert.equal(worker.metrics[0]?.external?.metric.name, 'ledgerflow_task_queue_backlog');
  assert.deepEqual(worker.metrics[0]?.external?.metric.selector, { matchLabels: { task_queue: 'ledgerflow' }, matchExpressions: [{ key: 'queue_type', operator: 'In', values: ['activity'] }] });
  assert.equal(worker.maxReplicas, 8);
  const rules = mustFind(objects, 'ConfigMap', componentName('prometheus-adapter')) as K8sObject & { metadata: { namespace: string }; data: Record<string, string> };
  assert.equal(rules.metadata.namespace, 'monitoring');
  for (const name of ['ledgerflow_consumer_lag', 'ledgerflow_task_queue_backlog']) assert.match(rules.data['config.yaml'] ?? '', new RegExp(`as: ${name}`));
  // The api has no lag: it stays on CPU.
  assert.equal(render({ set: ['externalMetrics.enabled=true'] }).filter((o) => o.kind === 'HorizontalPodAutoscaler' && o.metadata.name === componentName('api')).length, 1);
});

test('lagThreshold 0 derives from the consumer\'s in-flight capacity; an explicit one wins', () => {
  const threshold = (set: string[]) => (specOf(render({ set: ['keda.enabled=true', ...set] }), 'ScaledObject', 'consumer') as { triggers: Array<{ metadata: Record<string, string> }> }).triggers[0]?.metadata.lagThreshold;
  assert.equal(threshold([]), '3200');
  assert.equal(threshold(['consumer.batchMaxEvents=15000', 'consumer.batchesInFlight=2']), '48000');
  assert.equal(threshold(['consumer.autoscaling.lagThreshold=9000']), '9000');
});

test('defaults (no KEDA, no adapter): CPU HPAs, still with the values\' behavior', () => {
  const objects = render();
  const consumer = specOf(objects, 'HorizontalPodAutoscaler', 'consumer') as { metrics: Array<{ type: string }>; behavior: { scaleDown: { policies: unknown[] } } };
  assert.deepEqual(consumer.metrics.map((m) => m.type), ['Resource']);
  assert.deepEqual(consumer.behavior.scaleDown.policies, [{ type: 'Pods', value: 1, periodSeconds: 120 }]);
});
