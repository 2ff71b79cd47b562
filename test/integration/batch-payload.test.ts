import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Client } from '@temporalio/client';
import { startProducer } from '../../src/producer';
import { GzipPayloadCodec } from '../../src/temporal/codec';
import { verify } from '../../src/verify';
import type { BatchHeader } from '../../src/workflows/types';
import { startTestPipeline, type RunningPipeline } from '../helpers/pipeline';

/**
 * A batch whose packed events exceed consumer.batchMaxBytes is halved into several workflows,
 * each under the limit (Temporal refuses a payload over its own), on real Kafka, Temporal and
 * MariaDB: every valid event stored once, every malformed one in the DLQ, and no workflow input
 * over the limit. The limit is set far below a fetched slice (~30 B per packed event), so nearly
 * every slice is halved, some several times.
 */
const COUNT = 4_000;
const LIMIT_BYTES = 16 * 1024;
let p: RunningPipeline;

before(async () => {
  p = await startTestPipeline('payload', { 'consumer.batchMaxBytes': LIMIT_BYTES, 'consumer.batchMaxEvents': 5_000 });
});

after(async () => {
  await p?.stop();
});

test(`${COUNT} events in batches over consumer.batchMaxBytes: halved into workflows under it, 0 missing, 0 duplicated`, { timeout: 300_000 }, async () => {
  const producer = await startProducer(p.env.config, { ratePerSec: 0, count: COUNT, accounts: 200, seed: 20261201, malformedRatio: 0.01 }, p.env.log);
  const produced = await producer.done;
  assert.equal(produced.sent, COUNT);

  const report = await verify(p.env.config, { waitMs: 180_000 }, p.env.log);
  assert.equal(report.lag, 0, 'consumer drained and committed');
  assert.equal(report.missing, 0, `missing: ${report.examples.missing.join(', ')}`);
  assert.equal(report.duplicated, 0);
  assert.equal(report.balanceMismatches, 0, report.examples.balanceMismatches.join('; '));
  assert.equal(report.dlqFound, produced.malformed);
  assert.equal(report.ok, true);

  const client = new Client({ connection: p.temporal, namespace: p.env.config.temporal.namespace });
  const codec = new GzipPayloadCodec();
  const valid = COUNT - produced.malformed;
  let sizes: number[] = [];
  let events = 0;
  // Listing reads Temporal's visibility store, which can trail the completions by a moment.
  for (let attempt = 0; attempt < 20 && events !== valid; attempt++) {
    if (attempt > 0) await new Promise((r) => setTimeout(r, 500));
    sizes = [];
    events = 0;
    for await (const wf of client.workflow.list({ query: `TaskQueue = '${p.env.config.temporal.taskQueue}' AND WorkflowType = 'processBatch'` })) {
      const history = await client.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory();
      const [header, packed] = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads ?? [];
      assert.ok(header?.data && packed?.data, `${wf.workflowId}: a header and packed events`);
      const [plain] = await codec.decode([header]);
      events += (JSON.parse(new TextDecoder().decode(plain?.data)) as BatchHeader).eventCount;
      sizes.push(packed.data.byteLength);
    }
  }
  assert.equal(events, valid, 'the workflows carried every valid event once');
  assert.ok(sizes.length >= 8, `${sizes.length} workflows: the slices were halved`);
  assert.ok(Math.max(...sizes) <= LIMIT_BYTES, `largest packed batch ${Math.max(...sizes)} B, limit ${LIMIT_BYTES} B`);
});
