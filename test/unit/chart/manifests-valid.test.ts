/** Every object the chart renders, for every profile, and every dev manifest in k8s/dev/, passes strict
 * schema validation offline (see k8s-validate.ts and docs/decisions/002-offline-k8s-validation.md). */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import YAML from 'yaml';
import { REPO_ROOT } from '../../helpers/k8s-tools';
import { strictFieldErrors, validateObjects, validateWithModel } from './k8s-validate';
import { K8sObject, parseManifests, profiles, render } from './render';

const renders = new Map<string, K8sObject[]>([['defaults', render()]]);
for (const p of profiles()) renders.set(path.basename(p), render({ valuesFiles: [p] }));

test('every rendered object of every profile is valid against its schema, unknown fields included', async () => {
  const all = [...renders.values()].flat();
  const problems = await validateObjects(all);
  assert.deepEqual(problems, []);
});

test('the profiles cover every kind the chart can render, the KEDA and ServiceMonitor kinds included', () => {
  const kinds = new Set([...renders.values()].flat().map((o) => `${o.apiVersion}/${o.kind}`));
  for (const kind of [
    'apps/v1/Deployment', 'batch/v1/Job', 'v1/Pod', 'v1/Service', 'v1/ConfigMap', 'v1/ServiceAccount',
    'autoscaling/v2/HorizontalPodAutoscaler', 'policy/v1/PodDisruptionBudget', 'networking.k8s.io/v1/NetworkPolicy',
    'keda.sh/v1alpha1/ScaledObject', 'keda.sh/v1alpha1/TriggerAuthentication', 'monitoring.coreos.com/v1/ServiceMonitor',
    'monitoring.coreos.com/v1/PrometheusRule', 'networking.k8s.io/v1/Ingress', 'gateway.networking.k8s.io/v1/HTTPRoute',
  ]) {
    assert.ok(kinds.has(kind), `no profile renders ${kind}`);
  }
});

test('the validator rejects unknown kinds, wrong types and unknown fields', async () => {
  const widget = { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' } };
  await assert.rejects(validateWithModel(widget), /no schema for this kind/);
  const deployment = structuredClone(renders.get('defaults')?.find((o) => o.kind === 'Deployment')) as K8sObject;
  await assert.rejects(validateWithModel({ ...deployment, spec: { ...(deployment.spec as object), replicas: 'two' } }), /integer/);
  const typo = structuredClone(deployment);
  const pod = (typo.spec as { template: { spec: { containers: Record<string, unknown>[] } } }).template.spec;
  pod.containers[0]!.imagePulPolicy = 'Always';
  const errors = strictFieldErrors([typo]);
  assert.equal(errors.length, 1);
  assert.match(errors[0] ?? '', /imagePulPolicy/);
});

test('the dev manifests in k8s/dev/ are valid too, and the kind config names the cluster', async () => {
  const dir = path.join(REPO_ROOT, 'k8s', 'dev');
  const objects = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .flatMap((f) => parseManifests(fs.readFileSync(path.join(dir, f), 'utf8')));
  assert.ok(objects.length >= 8);
  assert.deepEqual(await validateObjects(objects), []);
  const kind = YAML.parse(fs.readFileSync(path.join(REPO_ROOT, 'k8s', 'kind', 'cluster.yaml'), 'utf8'));
  assert.equal(kind.apiVersion, 'kind.x-k8s.io/v1alpha4');
  assert.equal(kind.kind, 'Cluster');
  assert.equal(kind.name, 'ledgerflow');
});
