import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compress as snappyRaw } from 'snappy';
import { CompressionTypes } from 'kafkajs';
import '../../../src/kafka/client';
import { batchPositionBefore, compressionType, COMPRESSION_NAMES, snappyDecompress, UndecodableBatchError, undecodableCause, XERIAL_MAGIC, xerialSnappyCompress } from '../../../src/kafka/codecs';

// kafkajs's own record batch encoder and decoder (the code the consumer runs), with the codecs
// registered by the shared client module.
const { RecordBatch: encodeBatch } = require('kafkajs/src/protocol/recordBatch/v0') as { RecordBatch: (b: Record<string, unknown>) => Promise<{ buffer: Buffer }> };
const Record = require('kafkajs/src/protocol/recordBatch/record/v0') as (r: Record<string, unknown>) => unknown;
const decodeBatch = require('kafkajs/src/protocol/recordBatch/v0/decoder') as (d: unknown) => Promise<{ firstOffset: string; records: Array<{ offset: string; key: Buffer; value: Buffer }> }>;
const Decoder = require('kafkajs/src/protocol/decoder') as new (b: Buffer) => unknown;
const Long = require('kafkajs/src/utils/long') as { fromValue(v: number): unknown };

const values = Array.from({ length: 500 }, (_, i) => Buffer.from(JSON.stringify({ id: `tx-${i}`, account: `acct-${i % 17}`, amountMinor: String(i * 101), currency: 'EUR', type: 'debit' })));

async function batchOf(codec: CompressionTypes, firstOffset: number): Promise<Buffer> {
  const records = values.map((value, i) => Record({ offsetDelta: i, key: Buffer.from(`acct-${i % 17}`), value }));
  const { buffer } = await encodeBatch({ compression: codec, firstOffset: Long.fromValue(firstOffset), lastOffsetDelta: values.length - 1, records });
  // As in a fetch response: the batch sits inside a larger buffer, after other bytes.
  return Buffer.concat([Buffer.alloc(37, 7), buffer]).subarray(37);
}

for (const name of COMPRESSION_NAMES) {
  test(`a ${name} record batch round-trips through kafkajs's encoder and decoder`, async () => {
    const decoded = await decodeBatch(new Decoder(await batchOf(compressionType(name), 1_000)));
    assert.equal(decoded.records.length, values.length);
    assert.equal(decoded.records[0]?.offset, '1000');
    assert.equal(decoded.records[499]?.offset, '1499');
    assert.deepEqual(decoded.records.map((r) => r.value.toString()), values.map((v) => v.toString()));
  });
}

for (const name of ['snappy', 'lz4', 'zstd', 'gzip'] as const) {
  test(`a corrupt ${name} batch fails as undecodable, not retriable, with its offsets`, async () => {
    const batch = await batchOf(compressionType(name), 4_200);
    // Overwrite the start of the compressed records (after the 61-byte header) with zeros.
    batch.fill(0, 61, 61 + 24);
    const err = await decodeBatch(new Decoder(batch)).then(() => null, (e: unknown) => e);
    assert.ok(err instanceof UndecodableBatchError, `got ${String(err)}`);
    assert.equal(err.retriable, false);
    assert.equal(err.codec, name);
    assert.deepEqual(err.position, { baseOffset: 4_200n, lastOffset: 4_699n, records: 500 });
    assert.match(err.message, /at offsets 4200-4699 cannot be decompressed/);
    assert.equal(undecodableCause({ name: 'KafkaJSNonRetriableError', cause: err }), err);
  });
}

test('a batch with a compression id Kafka does not define fails as undecodable instead of being read as records', async () => {
  const batch = await batchOf(CompressionTypes.GZIP, 0);
  batch.writeInt16BE((batch.readInt16BE(21) & ~0x07) | 5, 21);
  const err = await decodeBatch(new Decoder(batch)).then(() => null, (e: unknown) => e);
  assert.ok(err instanceof UndecodableBatchError, `got ${String(err)}`);
  assert.equal(err.codec, 'unknown codec id 5');
});

test('snappy: the xerial framing of Java clients and the raw block of librdkafka both decode', async () => {
  const data = Buffer.concat(values);
  assert.ok(data.length > 32 * 1024, 'the data spans more than one xerial chunk');
  const framed = await xerialSnappyCompress(data);
  assert.ok(framed.subarray(0, 8).equals(XERIAL_MAGIC));
  assert.equal(framed.readInt32BE(8), 1);
  assert.deepEqual(await snappyDecompress(framed), data);
  assert.deepEqual(await snappyDecompress(await snappyRaw(data)), data);
  await assert.rejects(snappyDecompress(framed.subarray(0, framed.length - 3)), /xerial snappy: chunk of \d+ bytes at byte \d+ runs past the end/);
});

test('the batch header is read only when it checks out', async () => {
  const alone = Buffer.from('not after a batch header');
  assert.equal(batchPositionBefore(alone, 3), null);
  const batch = await batchOf(CompressionTypes.LZ4, 9);
  const records = batch.subarray(61);
  assert.deepEqual(batchPositionBefore(records, 3), { baseOffset: 9n, lastOffset: 508n, records: 500 });
  assert.equal(batchPositionBefore(records, 4), null, 'another codec id');
  assert.equal(batchPositionBefore(records.subarray(0, records.length - 1), 3), null, 'a length that does not end the view');
});
