import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { loadConfig } from '../../../src/config';
import { binariesBuilt, binaryPath, componentSource } from '../../../src/cluster/binaries';
import { KEDA_METRICS_APISERVER_IMAGE, KEDA_OPERATOR_IMAGE } from '../../../src/cluster/images';
import { KEDA_APISERVICE, KEDA_DEPLOYMENTS, kedaKustomization, kedaManifest } from '../../../src/cluster/keda';
import { KEDA_VERSION } from '../../../src/cluster/layout';

/** KEDA on the node: upstream's config/minimal with local images that are never pulled (docs/decisions/029-keda-on-the-node.md). */

const config = loadConfig();

test("the overlay renames upstream's images to the local ones and never pulls them", () => {
  const k = kedaKustomization('../keda/config/minimal') as {
    resources: string[];
    images: { name: string; newName: string; newTag: string }[];
    patches: { target: { kind: string; name: string }; patch: string }[];
  };
  assert.deepEqual(k.resources, ['../keda/config/minimal']);
  const tag = KEDA_VERSION.replace(/^v/, '');
  assert.deepEqual(k.images, [
    { name: 'ghcr.io/kedacore/keda', newName: 'localhost/ledgerflow/keda', newTag: tag },
    { name: 'ghcr.io/kedacore/keda-metrics-apiserver', newName: 'localhost/ledgerflow/keda-metrics-apiserver', newTag: tag },
  ]);
  assert.deepEqual(k.images.map((i) => `${i.newName}:${i.newTag}`), [KEDA_OPERATOR_IMAGE, KEDA_METRICS_APISERVER_IMAGE]);
  assert.deepEqual(k.patches.map((p) => p.target.name), [...KEDA_DEPLOYMENTS]);
  for (const p of k.patches) assert.deepEqual(JSON.parse(p.patch), [{ op: 'replace', path: '/spec/template/spec/containers/0/imagePullPolicy', value: 'Never' }]);
});

// The real rendering needs KEDA's module source and kubectl in the per-user cache (`cluster install keda`).
const built = binariesBuilt(config, 'keda') && fs.existsSync(binaryPath(config, 'kubernetes', 'kubectl')) && fs.existsSync(path.join(componentSource(config, 'keda'), 'config'));

test("the rendered manifest is upstream's minimal install: CRDs, operator, metrics API server, APIService; no webhook, nothing pulled", { skip: built ? false : 'KEDA is not built in this cache (ledgerflow cluster install keda)' }, async () => {
  const docs = parseAllDocuments(await kedaManifest(config)).map((d) => d.toJS() as { kind: string; metadata: { name: string }; spec?: Record<string, unknown> });
  const names = (kind: string) => docs.filter((d) => d.kind === kind).map((d) => d.metadata.name).sort();
  assert.deepEqual(names('Deployment'), [...KEDA_DEPLOYMENTS].sort());
  assert.deepEqual(names('APIService'), [KEDA_APISERVICE]);
  assert.ok(names('CustomResourceDefinition').includes('scaledobjects.keda.sh'));
  assert.deepEqual(names('ValidatingWebhookConfiguration'), []);
  for (const d of docs.filter((x) => x.kind === 'Deployment')) {
    const containers = (d.spec as { template: { spec: { containers: { image: string; imagePullPolicy: string }[] } } }).template.spec.containers;
    for (const c of containers) {
      assert.ok([KEDA_OPERATOR_IMAGE, KEDA_METRICS_APISERVER_IMAGE].includes(c.image), c.image);
      assert.equal(c.imagePullPolicy, 'Never');
    }
  }
});
