import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { WORKFLOW_TRACING_INTERCEPTORS } from '../../../src/telemetry/temporal-tracing';
import { dataConverter } from '../../../src/temporal/codec';

/**
 * Determinism guard: every recorded history of every workflow type must replay against the
 * current workflow code. A non-deterministic change fails here, in CI, before it reaches a worker.
 * Histories are recorded from real runs: `LF_RECORD_HISTORIES=1 npm run test:integration`.
 */
const dir = path.resolve(__dirname, '..', '..', 'fixtures', 'histories');
const workflowTypes = Object.keys(require('../../../src/workflows') as Record<string, unknown>);

test('a recorded history exists for every workflow type', () => {
  const recorded = fs.readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => f.split('.')[0]);
  for (const type of workflowTypes) assert.ok(recorded.includes(type), `no recorded history for ${type}`);
});

for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.json'))) {
  test(`replays ${file}`, { timeout: 120_000 }, async () => {
    const history = historyFromJSON(JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')));
    assert.ok((history.events?.length ?? 0) > 3, 'history has events');
    await Worker.runReplayHistory({ workflowsPath: require.resolve('../../../src/workflows'), dataConverter: dataConverter() }, history, file);
  });
}

// With tracing on, the worker bundles Temporal's OpenTelemetry workflow interceptors: they must not
// change the command sequence either (their spans leave through a sink, skipped during replay).
for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.json'))) {
  test(`replays ${file} with the tracing interceptors bundled`, { timeout: 120_000 }, async () => {
    const history = historyFromJSON(JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')));
    await Worker.runReplayHistory(
      { workflowsPath: require.resolve('../../../src/workflows'), dataConverter: dataConverter(), interceptors: { workflowModules: [WORKFLOW_TRACING_INTERCEPTORS] } },
      history,
      file,
    );
  });
}
