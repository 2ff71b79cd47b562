import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '../../src/config';
import { clusterDepsUp, clusterLayout, clusterUp, importImage, kubectl } from '../../src/cluster';
import { createRandom } from '../../src/domain/random';
import { K8S_TESTS_SKIP } from './helpers';
import { componentPods, ensureDbSecret, installRelease, killContainer, produce, RELEASE_NAMESPACE, releaseImage, scaleTo, uninstallRelease, verifyAll } from './release';
import { recordReport } from './report';

/**
 * Scaling and chaos in the cluster while events flow: `kubectl scale` of the consumer 1 → partitions
 * → 1 and of the worker 1 → 3 → 1 during 200,000 events; then pods deleted and containers SIGKILLed
 * at seeded random moments (LF_K8S_CHAOS_SEED replays a run). Both end with `verify`: nothing lost,
 * nothing duplicated, every balance exact.
 */

const config = loadConfig();
const skip = K8S_TESTS_SKIP;
const PARTITIONS = 8;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (line: string) => console.error(line);

test('kubectl scale under load: consumer 1 → partitions → 1, worker 1 → 3 → 1, 200,000 events exact', { skip, timeout: 90 * 60_000 }, async () => {
  await clusterUp(config, log);
  await clusterDepsUp(config, log);
  const image = await releaseImage(config);
  await importImage(clusterLayout(config), image.archive);
  await ensureDbSecret(config);
  await installRelease(config, image, { kafka: { brokers: 'kafka.ledgerflow-deps.svc:9092', partitions: PARTITIONS, replicationFactor: 1 } });
  const seed = Number(process.env.LF_K8S_SEED ?? 7);
  const load = produce(config, { count: 200_000, rate: 2_000, seed });
  const steps: string[] = [];
  for (const [deployment, replicas] of [['lf-ledgerflow-consumer', PARTITIONS], ['lf-ledgerflow-worker', 3], ['lf-ledgerflow-consumer', 1], ['lf-ledgerflow-worker', 1]] as const) {
    await sleep(10_000);
    await scaleTo(config, deployment, replicas);
    steps.push(`${deployment}=${replicas}`);
  }
  const sent = await load;
  const report = await verifyAll(config, 20 * 60_000);
  recordReport({ scale: { seed, events: sent.sent, steps, produced: report.produced, lost: report.missing, duplicated: report.duplicated, balanceMismatches: report.balanceMismatches, ok: report.ok } });
  assert.ok(report.ok, JSON.stringify(report));
  assert.equal(report.missing + report.duplicated + report.balanceMismatches, 0);
});

test('chaos in the cluster: pods deleted and containers SIGKILLed at seeded moments lose and duplicate nothing', { skip, timeout: 90 * 60_000 }, async () => {
  const seed = Number(process.env.LF_K8S_CHAOS_SEED ?? Date.now() % 2 ** 31);
  console.error(`k8s chaos seed ${seed} (replay with LF_K8S_CHAOS_SEED=${seed})`);
  const random = createRandom(seed);
  await scaleTo(config, 'lf-ledgerflow-consumer', 2);
  await scaleTo(config, 'lf-ledgerflow-worker', 2);
  const load = produce(config, { count: 100_000, rate: 1_500, seed });
  const faults: string[] = [];
  const FAULTS = 12;
  for (let i = 0; i < FAULTS; i += 1) {
    await sleep(2_000 + Math.floor(random() * 4_000));
    const component = random() < 0.5 ? 'consumer' : 'worker';
    const how = random() < 0.5 ? 'delete' : 'sigkill';
    const pods = await componentPods(config, component);
    const pod = pods[Math.floor(random() * pods.length)];
    if (!pod) {
      faults.push(`${component}: no running pod, skipped`);
      continue;
    }
    if (how === 'delete') await kubectl(config, ['-n', RELEASE_NAMESPACE, 'delete', 'pod', pod, '--wait=false']);
    else await killContainer(config, pod);
    faults.push(`${how} ${pod}`);
  }
  const sent = await load;
  const report = await verifyAll(config, 20 * 60_000);
  const applied = faults.filter((f) => !f.includes('skipped')).length;
  recordReport({ chaos: { seed, events: sent.sent, faults: applied, log: faults, produced: report.produced, lost: report.missing, duplicated: report.duplicated, balanceMismatches: report.balanceMismatches, ok: report.ok } });
  assert.ok(applied >= 10, faults.join('\n'));
  assert.ok(report.ok, JSON.stringify(report));
  assert.equal(report.missing + report.duplicated + report.balanceMismatches, 0);
  await uninstallRelease(config);
});
