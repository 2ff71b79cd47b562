import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { CHAOS_BENCH_SETTINGS, runChaos } from '../../src/chaos';
import { FAULT_KINDS } from '../../src/chaos/plan';
import { OVERFLOW_APPLIED, OVERFLOW_CREDITS, REFUSED_PER_FAULT } from '../../src/chaos/poison';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/telemetry/log';

/**
 * The short chaos run on the real stack, with the benchmark's pipeline settings (12 partitions,
 * large batches), fraud detection and reviews on, on the 3-broker Kafka profile (RF 3,
 * min.insync.replicas 2, at stack.kafkaClusterBasePort): 50,000 events under a steady load while
 * consumers and workers are SIGKILLed and SIGTERMed, Temporal, MariaDB and one broker at a time
 * are SIGKILLed and restarted, and poison events are sent (credits that overflow a balance, events
 * a real trigger refuses, parked and then replayed). Every acknowledged event must be stored
 * exactly once with balances that add up, every poison event accounted for exactly.
 * LF_CHAOS_SEED picks the seed (a failing seed printed here reproduces the same faults).
 */
test('chaos on the 3-broker profile: 50,000 events, 9 faults of every kind including poison and a broker kill: nothing lost, nothing duplicated', { timeout: 900_000 }, async () => {
  const seed = Number(process.env.LF_CHAOS_SEED ?? 20261125);
  const reportFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'lf-chaos-')), 'chaos-report.json');
  const config = loadConfig();
  const report = await runChaos(
    config,
    {
      seed, transactions: 50_000, faults: FAULT_KINDS.length + 1, rate: 500, consumers: 2, workers: 2, accounts: 500, malformedRatio: 0.01,
      maxDownMs: 3_000, maxMinutes: 12, reportFile, keep: false, kafkaCluster: true, labelled: true,
      // A SIGKILLed consumer's partitions move after the session timeout: 10 s keeps the run short.
      overrides: { ...CHAOS_BENCH_SETTINGS, 'consumer.sessionTimeoutMs': 10_000, 'shutdown.graceMs': 15_000 },
    },
    createLogger('warn', 'chaos-test'),
  );
  const written = JSON.parse(fs.readFileSync(reportFile, 'utf8')) as typeof report;
  assert.equal(written.seed, seed);
  assert.equal(report.error, undefined, `seed ${seed}: ${report.error}`);
  assert.equal(report.sent, 50_000);
  // A producer replaced after a broker kill resends its chunk: the topic may hold a few copies twice.
  assert.ok(report.transactions >= 50_000);
  assert.ok(report.faults >= FAULT_KINDS.length + 1, `seed ${seed}: ${report.faults} faults injected`);
  for (const kind of FAULT_KINDS) assert.ok(report.faultsByKind[kind] >= 1, `seed ${seed}: no ${kind}`);
  assert.ok(report.faultLog.some((f) => f.kind === 'kafka-kill' && f.broker !== undefined), 'a broker of the 3-broker profile was killed');
  assert.deepEqual(
    [report.settings.partitions, report.settings.replicationFactor, report.settings.batchMaxEvents, report.settings.fraudEnabled, report.settings.reviewEnabled],
    [12, 3, 15_000, true, true],
  );
  assert.match(report.git.commit, /^[0-9a-f]{40}$/);
  // Poison: per injection, OVERFLOW_APPLIED credits applied and the rest rejected balance_overflow;
  // each refused event parked, replayed once its cause was gone, and stored exactly once.
  const poison = report.poison;
  assert.ok(poison, 'poison accounted for');
  const n = report.faultsByKind.poison;
  assert.equal(poison.injections, n);
  assert.deepEqual(
    [poison.overflowApplied, poison.overflowRejected, poison.parkedBeforeReplay, poison.unexpectedParked, poison.replayed, poison.storedAfterReplay, poison.balanceMismatches],
    [n * OVERFLOW_APPLIED, n * (OVERFLOW_CREDITS - OVERFLOW_APPLIED), n * REFUSED_PER_FAULT, 0, n * REFUSED_PER_FAULT, n * REFUSED_PER_FAULT, 0],
    JSON.stringify(poison),
  );
  assert.equal(report.verify?.parked, 0, 'no parked event left unresolved after the replay');
  assert.equal(report.acknowledged, report.valid, 'every valid event the producer and the poison faults sent was acknowledged');
  assert.equal(report.lost, 0, `seed ${seed}: lost`);
  assert.equal(report.duplicated, 0, `seed ${seed}: duplicated`);
  assert.equal(report.balanceMismatches, 0, `seed ${seed}: balance mismatches`);
  assert.equal(report.contentMismatches, 0);
  assert.equal(report.dlqMissing, 0, 'every malformed event is in the DLQ with its reason');
  assert.ok(report.dlq >= 400, 'about 1 % of the events were malformed');
  assert.equal(report.uncleanGracefulExits, 0, 'every SIGTERMed process drained and exited 0');
  assert.equal(report.ok, true, JSON.stringify(report.verify));
});
