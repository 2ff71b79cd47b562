import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FEATURE_COUNT, fitPca, isPcaModel, normalised, project, symmetricEigen } from '../../../../src/domain/fraud/embedding';
import { evaluateFlags } from '../../../../src/domain/fraud/evaluate';
import { createRandom } from '../../../../src/domain/random';

test('Jacobi eigen-decomposition recovers a known symmetric matrix', () => {
  const m = [[4, 1, 0], [1, 3, 0], [0, 0, 1]];
  const { values, vectors } = symmetricEigen(m);
  assert.ok(Math.abs((values[0] as number) - (3.5 + Math.sqrt(1.25))) < 1e-9);
  assert.ok(Math.abs((values[2] as number) - 1) < 1e-9);
  for (let k = 0; k < 3; k++) {
    const v = vectors[k] as number[];
    const mv = m.map((row) => row.reduce((s, x, j) => s + x * (v[j] as number), 0));
    mv.forEach((x, i) => assert.ok(Math.abs(x - (values[k] as number) * (v[i] as number)) < 1e-9));
  }
});

test('PCA fitted on data lying in a plane explains it; a point off the plane has a large residual', () => {
  const random = createRandom(7);
  const samples = Array.from({ length: 2000 }, () => {
    const a = random() * 10;
    const b = random() * 10;
    return Array.from({ length: FEATURE_COUNT }, (_, j) => (j % 2 === 0 ? a : b) * (1 + j / 10) + (random() - 0.5) * 0.01);
  });
  const model = fitPca(samples, 2, { seed: 7 });
  assert.ok(isPcaModel(JSON.parse(JSON.stringify(model))), 'survives a JSON round trip');
  const inPlane = project(model, samples[0] as number[]);
  assert.equal(inPlane.embedding.length, 2);
  assert.ok(inPlane.residual <= 1.5, `in-plane residual ${inPlane.residual}`);
  const off = (samples[0] as number[]).map((x, j) => (j === 3 ? x + 20 : x));
  assert.ok(project(model, off).residual > 10);
  const unit = normalised(inPlane.embedding);
  assert.ok(Math.abs(Math.hypot(...unit) - 1) < 1e-12);
});

test('precision and recall overall and per pattern', () => {
  const labels = new Map([['a', 'p1'], ['b', 'p1'], ['c', 'p2']]);
  const flags = new Map([
    ['a', { detectors: ['rule:card_testing'] }],
    ['c', { detectors: ['rule:card_testing'] }],
    ['x', { detectors: ['rule:velocity'] }],
  ]);
  const { overall, perPattern } = evaluateFlags(labels, flags, ['p1', 'p2', 'card_testing', 'velocity']);
  assert.equal(overall.precision, 2 / 3);
  assert.equal(overall.recall, 2 / 3);
  assert.equal(perPattern.p1?.recall, 0.5);
  assert.equal(perPattern.p2?.recall, 1);
  assert.equal(perPattern.card_testing?.precision, 1, 'card-testing rule flagged two fraud transactions');
  assert.equal(perPattern.velocity?.precision, 0);
});
