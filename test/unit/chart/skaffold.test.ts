/** skaffold.yaml against skaffold's own JSON schema (from its Go module), offline, with ajv. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import Ajv from 'ajv';
import YAML from 'yaml';
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
