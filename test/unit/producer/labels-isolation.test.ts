import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

/**
 * The producer's fraud labels are the answer key: the code that detects fraud (the consumer, the
 * workflows, the worker and its activities, the domain's rules, the store queries they use) must
 * never read them, or precision and recall would measure nothing.
 */
const SRC = path.resolve(__dirname, '..', '..', '..', 'src');
const DETECTION_SIDE = ['consumer', 'workflows', 'worker', 'activities', 'domain', 'temporal', path.join('store', 'fraud.ts'), path.join('store', 'ledger.ts'), path.join('store', 'fraudIndex.ts')];

function files(entry: string): string[] {
  const full = path.join(SRC, entry);
  if (fs.statSync(full).isFile()) return [full];
  return fs.readdirSync(full, { recursive: true }).map((f) => path.join(full, String(f))).filter((f) => f.endsWith('.ts'));
}

test('no detection-side code reads the fraud labels', () => {
  const offenders = DETECTION_SIDE.flatMap(files).filter((f) => /fraud_labels|fraudLabels|FraudLabel/.test(fs.readFileSync(f, 'utf8')));
  assert.deepEqual(offenders.map((f) => path.relative(SRC, f)), []);
});

test('the labels leave the producer only through the label sink, never in the event', () => {
  const generator = fs.readFileSync(path.join(SRC, 'producer', 'generator.ts'), 'utf8');
  assert.match(generator, /JSON\.stringify\(event\)/, 'the Kafka value is the event alone');
  assert.doesNotMatch(generator, /JSON\.stringify\(\{[^}]*label/);
});
