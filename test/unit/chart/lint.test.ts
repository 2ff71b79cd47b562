import assert from 'node:assert/strict';
import { test } from 'node:test';
import { helm, KUBE_VERSION } from '../../helpers/k8s-tools';
import { CHART_DIR, profiles } from './render';

test('helm lint --strict passes with the default values and every ci profile', () => {
  for (const valuesFiles of [[], ...profiles().map((p) => [p])]) {
    const args = ['lint', '--strict', '--kube-version', KUBE_VERSION, CHART_DIR];
    for (const f of valuesFiles) args.push('--values', f);
    const out = helm(args);
    assert.match(out, /1 chart\(s\) linted, 0 chart\(s\) failed/, out);
    assert.doesNotMatch(out, /\[(WARNING|ERROR)\]/, out);
  }
});

test('the ci profiles include dev, production with KEDA and singlestore', () => {
  const names = profiles().map((p) => p.replace(/.*\//, ''));
  for (const name of ['dev-values.yaml', 'production-keda-values.yaml', 'singlestore-values.yaml']) {
    assert.ok(names.includes(name), `charts/ledgerflow/ci/${name} is missing`);
  }
});
