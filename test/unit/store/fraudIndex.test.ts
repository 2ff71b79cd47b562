import assert from 'node:assert/strict';
import { test } from 'node:test';
import { normalised } from '../../../src/domain/fraud/embedding';
import { createRandom } from '../../../src/domain/random';
import { FraudVectorIndex } from '../../../src/store/fraudIndex';

test('the HNSW index (usearch) loads and finds the same nearest fraud vector as the exact scan', () => {
  const random = createRandom(3);
  const vector = () => normalised(Array.from({ length: 6 }, () => random() - 0.5));
  const rows = Array.from({ length: 300 }, (_, i) => ({ txId: `fraud-${i}`, embedding: vector() }));
  const hnsw = new FraudVectorIndex();
  const exact = new FraudVectorIndex(false);
  assert.equal(hnsw.kind, 'hnsw', 'usearch prebuilt addon loads');
  assert.equal(exact.kind, 'exact');
  assert.equal(hnsw.nearest(vector()), null, 'empty set: no neighbour');
  hnsw.add(rows);
  exact.add(rows);
  hnsw.add(rows.slice(0, 10));
  assert.equal(hnsw.size, 300, 'a vector joins once');
  for (let i = 0; i < 50; i++) {
    const q = vector();
    const a = hnsw.nearest(q);
    const b = exact.nearest(q);
    assert.ok(a && b);
    assert.ok(Math.abs(a.similarity - b.similarity) < 1e-3, `${a.similarity} vs ${b.similarity}`);
  }
  assert.equal(exact.nearest(rows[7]!.embedding)?.txId, 'fraud-7');
});
