import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SourcedEvent } from '../../../src/domain/transaction';
import { packEvents, unpackEvents } from '../../../src/temporal/packedBatch';

const events: SourcedEvent[] = Array.from({ length: 3000 }, (_, i) => ({
  id: `019a0000-0000-7000-8000-${String(i).padStart(12, '0')}`,
  account: `acc-${i % 97}`,
  type: i % 3 === 0 ? 'transfer' : 'debit',
  amountMinor: String(i * 7),
  currency: 'EUR',
  occurredAt: '2026-11-25T08:01:30.000Z',
  ...(i % 3 === 0 ? { counterparty: `acc-${(i + 1) % 97}` } : {}),
  partition: i % 2,
  offset: String(i),
}));

test('packed events unpack to the same events, several times smaller than their JSON', async () => {
  const packed = await packEvents(events);
  assert.ok(packed.length * 4 < Buffer.byteLength(JSON.stringify(events)), `packed ${packed.length} bytes`);
  assert.deepEqual(await unpackEvents(packed, events.length), events);
});

test('a blob holding another number of events than its header says is refused', async () => {
  const packed = await packEvents(events.slice(0, 10));
  await assert.rejects(unpackEvents(packed, 11), { code: 'LF_INVARIANT', message: /number of events/ });
});

test('a blob that is not a packed batch is refused', async () => {
  await assert.rejects(unpackEvents(new TextEncoder().encode('[]'), 0), /incorrect header check/);
});
