import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';

/**
 * The naive baseline's workflow type (src/bench/naive, bundled only by the benchmark's own worker)
 * replays its recorded history: a non-deterministic change fails here, not in a benchmark run.
 * Recorded from `ledgerflow bench naive` with `temporal workflow show --output json`.
 */
const dir = path.resolve(__dirname, '..', '..', 'fixtures', 'bench-histories');
const workflowsPath = require.resolve('../../../src/bench/naive/workflows');
const workflowTypes = Object.keys(require('../../../src/bench/naive/workflows') as Record<string, unknown>);

test('a recorded history exists for every naive-baseline workflow type', () => {
  const recorded = fs.readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => f.split('.')[0]);
  assert.deepEqual(workflowTypes, ['naiveTransaction']);
  for (const type of workflowTypes) assert.ok(recorded.includes(type), `no recorded history for ${type}`);
});

for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.json'))) {
  test(`replays ${file}`, { timeout: 120_000 }, async () => {
    const history = historyFromJSON(JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')));
    const types = (history.events ?? []).map((e) => e.eventType);
    assert.ok(types.length > 3, 'history has events');
    // One activity per transaction: exactly what the batch pipeline is measured against.
    assert.equal(types.filter((t) => t === 10 /* ACTIVITY_TASK_SCHEDULED */).length, 1);
    await Worker.runReplayHistory({ workflowsPath }, history, file);
  });
}
