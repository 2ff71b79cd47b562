import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import { loadConfig } from '../../src/config';
import { clusterDepsUp, clusterUp, importImage, clusterLayout, kubectl } from '../../src/cluster';
import { askUntil, K8S_TESTS_SKIP } from './helpers';
import { CHART, ensureDbSecret, helm, HelmMajor, produce, RELEASE_NAMESPACE, releaseImage, ReleaseImage, releaseLeftovers, releaseValues, removeLeftoverRelease, timeToReady, verifyAll, writeValues } from './release';
import { recordReport } from './report';

/**
 * The Helm release end to end on the node, with Helm 4 and Helm 3: install (the migration hook Job
 * runs first), `helm test`, load from this machine verified exactly, an upgrade with a changed value
 * that rolls the pods under load without loss, a rollback, and an uninstall that leaves nothing of
 * the release but the data.
 */

const config = loadConfig();
const skip = K8S_TESTS_SKIP;
let image: ReleaseImage;
const log = (line: string) => console.error(line);
const seedBase = Number(process.env.LF_K8S_SEED ?? Date.now() % 2 ** 31);

async function rollout(name: string): Promise<void> {
  await kubectl(config, ['-n', RELEASE_NAMESPACE, 'rollout', 'status', `deployment/${name}`, '--timeout=600s'], { timeoutMs: 620_000 });
}

/** The release's Deployment pods (not its `helm test` or hook pods). */
async function podUids(): Promise<string[]> {
  const selector = 'app.kubernetes.io/instance=lf,app.kubernetes.io/component in (consumer,worker,api)';
  const out = await kubectl(config, ['-n', RELEASE_NAMESPACE, 'get', 'pods', '-l', selector, '-o', 'jsonpath={.items[*].metadata.uid}']);
  return out.split(' ').filter(Boolean).sort();
}

function assertClean(report: Awaited<ReturnType<typeof verifyAll>>, what: string): void {
  assert.ok(report.ok, `${what}: ${JSON.stringify(report)}`);
  assert.equal(report.missing, 0);
  assert.equal(report.duplicated, 0);
  assert.equal(report.balanceMismatches, 0);
}

test('the node and its dependencies are up; the image is imported', { skip, timeout: 90 * 60_000 }, async () => {
  await clusterUp(config, log);
  await clusterDepsUp(config, log);
  image = await releaseImage(config);
  await importImage(clusterLayout(config), image.archive);
  await ensureDbSecret(config);
  await removeLeftoverRelease(config);
  recordReport({ image: { name: `${image.repository}:${image.tag}`, sizeBytes: image.sizeBytes, archiveBytes: fs.statSync(image.archive).size } });
});

for (const major of ['helm4', 'helm3'] as HelmMajor[]) {
  test(`${major}: install, helm test, load verified, upgrade under load, rollback, uninstall`, { skip, timeout: 60 * 60_000 }, async () => {
    // One major's failure leaves its release: the next one starts clean all the same.
    await removeLeftoverRelease(config);
    const version = (await helm(config, major, ['version', '--short'])).trim();
    const values = writeValues(config, major, releaseValues(image));
    const t0 = Date.now();
    await helm(config, major, ['install', 'lf', CHART, '-n', RELEASE_NAMESPACE, '-f', values, '--wait', '--timeout', '15m']);
    const installSeconds = (Date.now() - t0) / 1000;
    const ready = await timeToReady(config);
    // The migration hook ran (and was deleted on success) before the Deployments.
    const testOut = await helm(config, major, ['test', 'lf', '-n', RELEASE_NAMESPACE, '--timeout', '5m']);
    assert.match(testOut, /Phase:\s+Succeeded/);

    const first = await produce(config, { count: 20_000, rate: 2_000, seed: seedBase });
    assertClean(await verifyAll(config), `${major} after install`);

    // A changed value rolls every pod (the ConfigMap's checksum is a pod annotation) while events flow.
    const before = await podUids();
    const load = produce(config, { count: 20_000, rate: 1_000, seed: seedBase + 1 });
    const upgraded = writeValues(config, `${major}-upgrade`, releaseValues(image, { consumer: { replicas: 1, lingerMs: 40, autoscaling: { enabled: false } } }));
    await helm(config, major, ['upgrade', 'lf', CHART, '-n', RELEASE_NAMESPACE, '-f', upgraded, '--wait', '--timeout', '15m']);
    for (const d of ['lf-ledgerflow-consumer', 'lf-ledgerflow-worker', 'lf-ledgerflow-api']) await rollout(d);
    // A rollout is complete when the new pods are ready; the old ones may still be draining in
    // their grace period. Replaced means gone, within the longest grace period and some.
    const after = await askUntil(podUids, (uids) => !before.some((uid) => uids.includes(uid)), 300_000);
    assert.ok(before.every((uid) => !after.includes(uid)), `every pod was replaced by the upgrade: before ${before.join(' ')}; after ${after.join(' ')}`);
    await load;
    assertClean(await verifyAll(config), `${major} after upgrade under load`);

    await helm(config, major, ['rollback', 'lf', '1', '-n', RELEASE_NAMESPACE, '--wait', '--timeout', '15m']);
    const history = await helm(config, major, ['history', 'lf', '-n', RELEASE_NAMESPACE, '-o', 'json']);
    assert.equal((JSON.parse(history) as { revision: number; status: string }[]).at(-1)?.status, 'deployed');
    await produce(config, { count: 5_000, rate: 1_000, seed: seedBase + 2 });
    const report = await verifyAll(config);
    assertClean(report, `${major} after rollback`);

    await helm(config, major, ['uninstall', 'lf', '-n', RELEASE_NAMESPACE, '--wait', '--timeout', '5m']);
    assert.deepEqual(await releaseLeftovers(config), [], 'the release left objects behind');
    // The data stays: the database still holds every transaction.
    assert.ok(report.stored >= first.sent, `stored ${report.stored} >= sent ${first.sent}`);
    recordReport({ [major]: { version, installSeconds, timeToReadySeconds: ready, helmTest: 'Succeeded', events: report.produced, lost: report.missing, duplicated: report.duplicated, balanceMismatches: report.balanceMismatches } });
  });
}
