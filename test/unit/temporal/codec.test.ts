import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Payload } from '@temporalio/common';
import { COMPRESS_FROM_BYTES, GzipPayloadCodec } from '../../../src/temporal/codec';

const utf8 = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array | null | undefined) => new TextDecoder().decode(b ?? new Uint8Array());
const json = (value: unknown): Payload => ({ metadata: { encoding: utf8('json/plain') }, data: utf8(JSON.stringify(value)) });

test('a large payload is gzipped and decodes to the same bytes and encoding', async () => {
  const codec = new GzipPayloadCodec();
  const events = Array.from({ length: 2000 }, (_, i) => ({ id: `019a0000-0000-7000-8000-${String(i).padStart(12, '0')}`, account: `acc-${i % 97}`, amountMinor: String(i * 7) }));
  const original = json({ batchId: 'b', events });
  const [encoded] = await codec.encode([original]);
  assert.equal(text(encoded?.metadata?.encoding), 'binary/gzip');
  assert.ok((encoded?.data?.length ?? 0) * 4 < (original.data?.length ?? 0), 'at least 4x smaller');
  const [decoded] = await codec.decode([encoded as Payload]);
  assert.equal(text(decoded?.metadata?.encoding), 'json/plain');
  assert.equal(decoded?.metadata?.['ledgerflow-original-encoding'], undefined);
  assert.deepEqual(decoded?.data, original.data);
});

test('small payloads and payloads the codec did not write pass through unchanged', async () => {
  const codec = new GzipPayloadCodec();
  const small = json({ txId: 'x', score: 0.9 });
  assert.ok((small.data?.length ?? 0) < COMPRESS_FROM_BYTES);
  assert.deepEqual(await codec.encode([small]), [small]);
  const foreign: Payload = { metadata: { encoding: utf8('binary/plain') }, data: utf8('y'.repeat(COMPRESS_FROM_BYTES * 2)) };
  assert.deepEqual(await codec.decode([foreign, small]), [foreign, small]);
});

test('binary payloads are not compressed (a packed batch is gzipped already)', async () => {
  const codec = new GzipPayloadCodec();
  const packed: Payload = { metadata: { encoding: utf8('binary/plain') }, data: new Uint8Array(COMPRESS_FROM_BYTES * 4).fill(7) };
  assert.deepEqual(await codec.encode([packed]), [packed]);
});
