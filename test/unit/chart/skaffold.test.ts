/** skaffold.yaml against skaffold's own JSON schema (from its Go module), offline, with ajv. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import Ajv from 'ajv';
import YAML from 'yaml';
import { DEPS_NAMESPACE } from '../../../src/cluster/deps';
import { KUBE_CONTEXT } from '../../../src/cluster/pki';
import { ensureSkaffoldSchema, REPO_ROOT, SKAFFOLD_SCHEMA_VERSION } from '../../helpers/k8s-tools';

type Config = Record<string, any>; // skaffold configs are deep, loosely typed YAML

const configs = YAML.parseAllDocuments(fs.readFileSync(path.join(REPO_ROOT, 'skaffold.yaml'), 'utf8')).map(
  (d) => d.toJS() as Config,
);
// skaffold's schema carries editor keywords (x-intellij-html-description) that strict ajv refuses.
const validate = new Ajv({ strict: false, allErrors: true }).compile(
  JSON.parse(fs.readFileSync(ensureSkaffoldSchema(), 'utf8')) as object,
);

test('every config in skaffold.yaml is valid against the skaffold schema', () => {
  assert.equal(configs.length, 2);
  for (const config of configs) {
    assert.equal(config.apiVersion, `skaffold/${SKAFFOLD_SCHEMA_VERSION}`);
    assert.ok(validate(config), `${config.metadata?.name}: ${JSON.stringify(validate.errors, null, 1)}`);
  }
});

test('the schema is strict enough to catch a typo', () => {
  const typo = structuredClone(configs[1]) as Config;
  typo.deploy.helm.releases[0].chartPth = typo.deploy.helm.releases[0].chartPath;
  assert.equal(validate(typo), false);
});

test('dev dependencies deploy before the chart, into the kind cluster only, and every referenced file exists', () => {
  const [deps, app] = configs as [Config, Config];
  assert.deepEqual([deps.metadata.name, app.metadata.name], ['dev-deps', 'ledgerflow']);
  assert.deepEqual(deps.deploy.helm.releases, [], 'without a profile, dev-deps must deploy nothing');
  const kind = YAML.parse(fs.readFileSync(path.join(REPO_ROOT, 'k8s', 'kind', 'cluster.yaml'), 'utf8'));
  const files: string[] = [app.build.artifacts[0].docker.dockerfile];
  for (const profile of ['dev', 'dev-mariadb']) {
    const d = deps.profiles.find((p: Config) => p.name === profile);
    const a = app.profiles.find((p: Config) => p.name === profile);
    assert.ok(d && a, `profile ${profile} must exist in both configs`);
    assert.equal(d.deploy.kubeContext, `kind-${kind.name}`);
    assert.equal(a.deploy.kubeContext, `kind-${kind.name}`);
    files.push(...d.manifests.rawYaml);
    for (const release of a.deploy.helm.releases) files.push(release.chartPath, ...(release.valuesFiles ?? []));
  }
  for (const release of app.deploy.helm.releases) files.push(release.chartPath);
  for (const f of files) assert.ok(fs.existsSync(path.join(REPO_ROOT, f)), `${f} does not exist`);
});

test('local-node: the node\'s context in both configs, the custom build over the whole build context, the import hook, the node\'s values', () => {
  const [deps, app] = configs as [Config, Config];
  const d = deps.profiles.find((p: Config) => p.name === 'local-node');
  const a = app.profiles.find((p: Config) => p.name === 'local-node');
  assert.ok(d && a, 'profile local-node must exist in both configs');
  assert.equal(d.deploy.kubeContext, KUBE_CONTEXT);
  assert.equal(a.deploy.kubeContext, KUBE_CONTEXT);
  assert.deepEqual(d.deploy.helm.releases, [], 'the node\'s dependencies come from `cluster deps up`, not from skaffold');
  assert.equal(a.build.local.push, false, 'no registry: the build stays local');
  const [artifact] = a.build.artifacts;
  assert.equal(artifact.image, app.build.artifacts[0].image);
  assert.match(artifact.custom.buildCommand, /src\/cli\.ts image build --tag "\$IMAGE"/);
  // Every path .dockerignore lets into the build context triggers a rebuild in `skaffold dev`.
  const allowed = fs.readFileSync(path.join(REPO_ROOT, '.dockerignore'), 'utf8').split('\n').filter((l) => l.startsWith('!')).map((l) => l.slice(1).replace(/\/$/, ''));
  assert.ok(allowed.length > 0);
  for (const p of [...allowed, 'Dockerfile']) assert.ok(artifact.custom.dependencies.paths.includes(p), `${p} is in the build context but not a dependency`);
  for (const p of artifact.custom.dependencies.paths as string[]) assert.ok(fs.existsSync(path.join(REPO_ROOT, p)), `${p} does not exist`);
  assert.match(artifact.hooks.after[0].command.join(' '), /cluster import --all-names "\$SKAFFOLD_IMAGE"/);
  const [release] = a.deploy.helm.releases;
  for (const f of [release.chartPath, ...release.valuesFiles]) assert.ok(fs.existsSync(path.join(REPO_ROOT, f)), `${f} does not exist`);
  const values = YAML.parse(fs.readFileSync(path.join(REPO_ROOT, release.valuesFiles[0]), 'utf8'));
  assert.equal(values.image.pullPolicy, 'Never', 'nothing can be pulled on the node');
  for (const host of [values.kafka.brokers, values.temporal.address, values.db.host]) assert.ok((String(host).split(':')[0] ?? '').endsWith(`.${DEPS_NAMESPACE}.svc`), `${host} is not a deps Service`);
  assert.deepEqual(release.setValueTemplates, { 'image.repository': '{{.IMAGE_REPO_ledgerflow}}', 'image.tag': '{{.IMAGE_TAG_ledgerflow}}' });
});
