import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FAULT_KINDS, countByKind, planFaults } from '../../../src/chaos/plan';

test('a seed always yields the same fault schedule (a failing run reproduces)', () => {
  const a = planFaults({ seed: 42, faults: 20, loadMs: 400_000, maxDownMs: 3_000 });
  const b = planFaults({ seed: 42, faults: 20, loadMs: 400_000, maxDownMs: 3_000 });
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, planFaults({ seed: 43, faults: 20, loadMs: 400_000, maxDownMs: 3_000 }));
});

test('with at least as many faults as kinds, every kind occurs; times are ordered inside the load', () => {
  for (let seed = 1; seed <= 200; seed++) {
    const plan = planFaults({ seed, faults: 8, loadMs: 100_000, maxDownMs: 3_000 });
    assert.equal(plan.length, 8);
    const counts = countByKind(plan.map((f) => f.kind));
    for (const kind of FAULT_KINDS) assert.ok(counts[kind] >= 1, `seed ${seed} lacks ${kind}`);
    for (let i = 0; i < plan.length; i++) {
      const f = plan[i]!;
      assert.ok(f.atMs >= 5_000 && f.atMs <= 90_000, `seed ${seed}: fault at ${f.atMs} ms`);
      assert.ok(f.downMs >= 0 && f.downMs <= 3_000);
      if (i > 0) assert.ok(f.atMs >= plan[i - 1]!.atMs);
    }
  }
});

test('fewer faults than kinds draws distinct kinds; zero faults plans nothing', () => {
  const plan = planFaults({ seed: 7, faults: 3, loadMs: 10_000, maxDownMs: 0 });
  assert.equal(new Set(plan.map((f) => f.kind)).size, 3);
  assert.ok(plan.every((f) => f.downMs === 0));
  assert.deepEqual(planFaults({ seed: 7, faults: 0, loadMs: 10_000, maxDownMs: 1 }), []);
});
