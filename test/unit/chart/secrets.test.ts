/** Secrets by reference only: no secret literal can reach the rendered output. */
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { describeSettings } from '../../../src/config';
import { K8sObject, componentName, mustFind, profiles, render, renderError, renderText } from './render';

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string } };
}

const settings = describeSettings() as { env: string; sensitive: boolean }[];
const SENSITIVE = settings.filter((s) => s.sensitive).map((s) => s.env);
/** Our settings (the OTEL_* ones included), plus the downward-API inputs of OTEL_RESOURCE_ATTRIBUTES. */
const KNOWN_ENV = new Set([
  ...settings.map((s) => s.env),
  'OTEL_RESOURCE_ATTRIBUTES_POD_NAME',
  'OTEL_RESOURCE_ATTRIBUTES_POD_UID',
  'OTEL_RESOURCE_ATTRIBUTES_NODE_NAME',
]);
const CANARY = 'canary-Secret-0xC0FFEE';

function containers(o: K8sObject): { env?: EnvVar[] }[] {
  const spec = (o.spec ?? {}) as { template?: { spec: { containers: { env?: EnvVar[] }[] } }; containers?: { env?: EnvVar[] }[] };
  return spec.template?.spec.containers ?? spec.containers ?? [];
}

function envOf(objects: K8sObject[], kind: string, component: string): EnvVar[] {
  return containers(mustFind(objects, kind, componentName(component))).flatMap((c) => c.env ?? []);
}

const all = [
  render({ set: ['producer.enabled=true'] }),
  render({ set: ['producer.enabled=true', 'tracing.enabled=true', 'otel.metrics.enabled=true'], setString: ['otel.endpoint=http://collector:4318', 'otel.headers.existingSecret=otlp'] }),
].concat(profiles().map((p) => render({ valuesFiles: [p] })));

test('the config schema declares the sensitive settings the chart must take from Secrets', () => {
  for (const name of ['LF_DB_PASSWORD', 'LF_DB_MIGRATION_PASSWORD', 'LF_KAFKA_SASL_PASSWORD', 'LF_TEMPORAL_API_KEY']) {
    assert.ok(SENSITIVE.includes(name), `${name} is not marked sensitive in src/config.ts`);
  }
});

test('sensitive env vars come only from secretKeyRef, and the chart creates no Secret', () => {
  let seen = 0;
  for (const objects of all) {
    assert.equal(objects.filter((o) => o.kind === 'Secret').length, 0);
    for (const o of objects) {
      for (const env of containers(o).flatMap((c) => c.env ?? [])) {
        if (!SENSITIVE.includes(env.name)) continue;
        seen += 1;
        assert.equal(env.value, undefined, `${o.kind}/${o.metadata.name}: ${env.name} has a literal value`);
        assert.ok(env.valueFrom?.secretKeyRef?.name && env.valueFrom.secretKeyRef.key, `${env.name}: not a secretKeyRef`);
      }
      const data = o.kind === 'ConfigMap' ? Object.keys((o.data ?? {}) as object) : [];
      for (const key of data) assert.ok(!SENSITIVE.includes(key), `ConfigMap ${o.metadata.name} holds ${key}`);
    }
  }
  assert.ok(seen > 0, 'no sensitive env var found: the test looked at nothing');
});

test('least privilege: Deployments get the app password, only the migration Job gets the migration password', () => {
  // production-keda: SASL, Temporal mTLS, a separate Secret for the migration password
  const objects = render({ valuesFiles: ['charts/ledgerflow/ci/production-keda-values.yaml'] });
  const names = (env: EnvVar[]) => env.map((e) => e.name);
  for (const component of ['consumer', 'worker', 'api']) {
    const env = names(envOf(objects, 'Deployment', component));
    assert.ok(env.includes('LF_DB_PASSWORD'), component);
    assert.ok(!env.includes('LF_DB_MIGRATION_PASSWORD'), component);
  }
  const job = envOf(objects, 'Job', 'migrate');
  assert.ok(!names(job).includes('LF_DB_PASSWORD'));
  const migration = job.find((e) => e.name === 'LF_DB_MIGRATION_PASSWORD');
  assert.deepEqual(migration?.valueFrom?.secretKeyRef, { name: 'ledgerflow-db-migrate', key: 'migration-password' });
  assert.deepEqual(names(envOf(objects, 'Deployment', 'worker')).filter((n) => n.startsWith('LF_KAFKA')), []);
});

test('every LF_* variable the chart sets is a real setting of src/config.ts; password files are disabled', () => {
  for (const objects of all) {
    const config = mustFind(objects, 'ConfigMap', 'lf-ledgerflow').data as Record<string, string>;
    assert.equal(config.LF_DB_PASSWORD_FILE, '');
    assert.equal(config.LF_DB_MIGRATION_PASSWORD_FILE, '');
    assert.equal(config.LF_API_HOST, '0.0.0.0');
    const names = [...Object.keys(config), ...objects.flatMap((o) => containers(o).flatMap((c) => (c.env ?? []).map((e) => e.name)))];
    // Operators' extraEnv may add other variables (NODE_EXTRA_CA_CERTS); every LF_* and OTEL_* one must be real.
    for (const name of names.filter((n) => /^(LF|OTEL)_/.test(n))) assert.ok(KNOWN_ENV.has(name), `${name} is not a setting in src/config.ts`);
  }
});

test('a secret given as a value is refused before anything renders', () => {
  for (const key of ['db.password', 'kafka.sasl.password', 'temporal.apiKey.value', 'password']) {
    const err = renderError({ setString: [`${key}=${CANARY}`] });
    assert.match(err, /additional properties|additionalProperties|not allowed/i, `${key}: ${err}`);
    assert.ok(!err.includes(`${CANARY}\n---`), 'the canary must not be rendered');
  }
  for (const name of SENSITIVE) {
    const err = renderError({ setString: [`extraConfig.${name}=${CANARY}`] });
    assert.match(err, /looks sensitive/, `${name}: ${err}`);
  }
});

test('non-sensitive extra settings pass through to the ConfigMap, and the canary never appears elsewhere', () => {
  const text = renderText({ setString: [`extraConfig.LF_RULES_CURRENCIES=EUR\\,USD`] });
  assert.match(text, /LF_RULES_CURRENCIES: "EUR,USD"/);
  for (const p of profiles()) assert.ok(!renderText({ valuesFiles: [p] }).includes(CANARY), path.basename(p));
});

test('API credentials come from a Secret mounted into the api alone; no credential is an env var or a value', () => {
  const objects = render({ set: ['fraud.reviewEnabled=true'] });
  const texts = JSON.stringify(objects);
  assert.ok(!/LF_FRAUD_REVIEW_TOKEN|reviewToken/.test(texts), 'the single shared review token is gone: reviewers have credentials of scope review');
  const volumes = (component: string) =>
    ((mustFind(objects, 'Deployment', componentName(component)).spec as { template: { spec: { volumes?: Array<{ name: string; secret?: { secretName: string } }> } } }).template.spec.volumes ?? []);
  assert.equal(volumes('api').find((v) => v.name === 'api-keys')?.secret?.secretName, 'ledgerflow-api-keys');
  for (const component of ['consumer', 'worker']) assert.ok(!volumes(component).some((v) => v.name === 'api-keys'), component);
});

test('each component logs in to Kafka as its own user when given one; KEDA reads lag as the consumer', () => {
  const objects = render({ valuesFiles: ['charts/ledgerflow/ci/production-keda-values.yaml'] });
  const saslSecret = (component: string) => envOf(objects, 'Deployment', component).find((e) => e.name === 'LF_KAFKA_SASL_PASSWORD')?.valueFrom?.secretKeyRef?.name;
  assert.equal(saslSecret('consumer'), 'ledgerflow-kafka-consumer');
  assert.equal(saslSecret('api'), 'ledgerflow-kafka-api');
  const auth = mustFind(objects, 'TriggerAuthentication', componentName('kafka')).spec as { secretTargetRef: Array<{ parameter: string; name: string }> };
  assert.deepEqual(auth.secretTargetRef.map((r) => `${r.parameter}:${r.name}`), ['username:ledgerflow-kafka-consumer', 'password:ledgerflow-kafka-consumer', 'ca:kafka-cluster-ca']);
  // The shared Secret still serves every component that has no user of its own.
  const shared = render({ setString: ['kafka.sasl.mechanism=scram-sha-512', 'kafka.sasl.existingSecret=kafka-all', 'kafka.sasl.componentSecrets.api=kafka-api'] });
  const secretOf = (component: string) => envOf(shared, 'Deployment', component).find((e) => e.name === 'LF_KAFKA_SASL_USERNAME')?.valueFrom?.secretKeyRef?.name;
  assert.deepEqual([secretOf('consumer'), secretOf('api')], ['kafka-all', 'kafka-api']);
  assert.match(renderError({ setString: ['kafka.sasl.mechanism=scram-sha-512', 'kafka.sasl.componentSecrets.api=kafka-api'] }), /kafka.sasl.existingSecret is required .*componentSecrets.consumer/);
});

test('CA certificates are mounted only where a process talks to that service, and the CA settings point at them', () => {
  const objects = render({ valuesFiles: ['charts/ledgerflow/ci/production-keda-values.yaml'] });
  const config = mustFind(objects, 'ConfigMap', 'lf-ledgerflow').data as Record<string, string>;
  assert.equal(config.LF_KAFKA_SSL_CA_PATH, '/etc/ledgerflow/kafka-ca/ca.crt');
  assert.equal(config.LF_DB_TLS, 'true');
  assert.equal(config.LF_DB_TLS_CA_PATH, '/etc/ledgerflow/db-ca/ca.crt');
  const podOf = (kind: string, component: string) => {
    const spec = (mustFind(objects, kind, componentName(component)).spec as { template: { spec: PodSpec } }).template.spec;
    return { mounts: spec.containers.flatMap((c) => (c.volumeMounts ?? []).map((m) => m.mountPath)), secrets: spec.volumes.flatMap((v) => (v.secret ? [v.secret.secretName] : [])) };
  };
  const consumer = podOf('Deployment', 'consumer');
  assert.ok(consumer.mounts.includes('/etc/ledgerflow/kafka-ca') && consumer.mounts.includes('/etc/ledgerflow/db-ca'));
  assert.ok(consumer.secrets.includes('kafka-cluster-ca') && consumer.secrets.includes('singlestore-ca'));
  const worker = podOf('Deployment', 'worker');
  assert.ok(!worker.mounts.includes('/etc/ledgerflow/kafka-ca'), 'the worker talks to no Kafka');
  assert.ok(worker.mounts.includes('/etc/ledgerflow/db-ca'));
  const job = podOf('Job', 'migrate');
  assert.deepEqual(job.mounts.filter((m) => m.endsWith('-ca')), ['/etc/ledgerflow/db-ca'], 'the migration Job gets the database CA only');
  const defaults = mustFind(render(), 'ConfigMap', 'lf-ledgerflow').data as Record<string, string>;
  assert.equal(defaults.LF_DB_TLS, 'false');
  assert.equal(defaults.LF_KAFKA_SSL_CA_PATH, undefined);
});

interface PodSpec {
  containers: Array<{ volumeMounts?: Array<{ mountPath: string }> }>;
  volumes: Array<{ secret?: { secretName: string } }>;
}
