import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '../../../src/config';
import { partitionOfKey } from '../../../src/kafka/client';
import { platformaticSender, refuseUnsupportedBroker } from '../../../src/producer/senders';

test('the @platformatic/kafka load generator refuses a TLS or SASL broker at start, naming the setting', async () => {
  await assert.rejects(platformaticSender(loadConfig({ 'kafka.ssl': true }, {}), 12), (err: Error & { code?: string; detail?: unknown }) => {
    assert.equal(err.code, 'LF_CONFIG');
    assert.match(err.message, /kafka\.ssl|kafka\.saslMechanism/);
    return true;
  });
});

test('the refusal happens before any connection, for SASL as for TLS, and a plaintext broker passes', () => {
  assert.throws(() => refuseUnsupportedBroker(loadConfig({ 'kafka.saslMechanism': 'plain' }, {})), /kafka\.saslMechanism/);
  assert.doesNotThrow(() => refuseUnsupportedBroker(loadConfig({}, {})));
});

test('partitionOfKey: the same partition for the same key, in range, spread over every partition', () => {
  const partitions = 12;
  const seen = new Set<number>();
  for (let i = 0; i < 1_000; i++) {
    const p = partitionOfKey(`acct-${i}`, partitions);
    assert.ok(Number.isInteger(p) && p >= 0 && p < partitions);
    assert.equal(partitionOfKey(`acct-${i}`, partitions), p);
    seen.add(p);
  }
  assert.equal(seen.size, partitions, 'keys spread over every partition');
});
