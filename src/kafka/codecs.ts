import { CompressionCodecs, CompressionTypes } from 'kafkajs';
import zlib from 'node:zlib';
import { promisify } from 'node:util';

/**
 * Kafka's compression codecs for kafkajs, which ships gzip only: snappy, lz4 and zstd from native
 * napi-rs packages with prebuilt binaries (docs/decisions/016-kafka-compression-codecs.md). A
 * batch that cannot be decompressed fails with UndecodableBatchError, which kafkajs does not
 * retry: the consumer stops and says where, instead of fetching the same bytes forever.
 */

export type CompressionName = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';
export const COMPRESSION_NAMES: readonly CompressionName[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];

/** The kafkajs enum value of a codec name (the id in a record batch's attributes). */
export function compressionType(name: CompressionName): CompressionTypes {
  return { none: CompressionTypes.None, gzip: CompressionTypes.GZIP, snappy: CompressionTypes.Snappy, lz4: CompressionTypes.LZ4, zstd: CompressionTypes.ZSTD }[name];
}

const CODEC_NAMES: Record<number, string> = { 1: 'gzip', 2: 'snappy', 3: 'lz4', 4: 'zstd' };

/** Where a record batch sits, read from its header when the codec was handed a view of the fetch. */
export interface BatchPosition {
  baseOffset: bigint;
  lastOffset: bigint;
  records: number;
}

/**
 * A record batch no codec here can turn back into records (corrupt bytes, a codec this build
 * lacks). Not retriable: the same bytes fail the same way. `retriable = false` is what kafkajs's
 * retrier reads, so the consumer crashes at once instead of retrying and restarting forever.
 */
export class UndecodableBatchError extends Error {
  readonly code = 'LF_UNDECODABLE_BATCH';
  readonly retriable = false;
  constructor(
    readonly codec: string,
    readonly position: BatchPosition | null,
    readonly reason: string,
  ) {
    super(`${codec} record batch${position ? ` at offsets ${position.baseOffset}-${position.lastOffset}` : ''} cannot be decompressed: ${reason}`);
    this.name = 'UndecodableBatchError';
  }
}

// RecordBatch v2 header up to the records (Kafka protocol "RecordBatch"): baseOffset int64,
// batchLength int32, partitionLeaderEpoch int32, magic int8, crc int32, attributes int16,
// lastOffsetDelta int32, baseTimestamp int64, maxTimestamp int64, producerId int64,
// producerEpoch int16, baseSequence int32, recordCount int32.
const BATCH_HEADER_BYTES = 61;
const BATCH_LENGTH_OVERHEAD = BATCH_HEADER_BYTES - 12;

/**
 * kafkajs's record batch decoder hands the codec a view of the fetch response that starts right
 * after the batch header, so the header is the 61 bytes before it. It is used only when it checks
 * out (magic 2, the codec id, a batch length that ends where the view ends); otherwise null.
 */
export function batchPositionBefore(compressed: Buffer, codecId: number): BatchPosition | null {
  if (compressed.byteOffset < BATCH_HEADER_BYTES) return null;
  const header = Buffer.from(compressed.buffer, compressed.byteOffset - BATCH_HEADER_BYTES, BATCH_HEADER_BYTES);
  const magic = header.readInt8(16);
  const attributes = header.readInt16BE(21);
  const batchLength = header.readInt32BE(8);
  if (magic !== 2 || (attributes & 0x07) !== codecId || batchLength !== BATCH_LENGTH_OVERHEAD + compressed.length) return null;
  const baseOffset = header.readBigInt64BE(0);
  return { baseOffset, lastOffset: baseOffset + BigInt(header.readInt32BE(23)), records: header.readInt32BE(57) };
}

interface Codec {
  compress(data: Buffer): Promise<Buffer>;
  decompress(data: Buffer): Promise<Buffer>;
}

/** Loads a native codec package on first use, so a missing binary fails only batches of that codec. */
function lazy<T>(name: string, load: () => T): () => T {
  let loaded: T | undefined;
  let failure: Error | undefined;
  return () => {
    if (loaded) return loaded;
    if (failure) throw failure;
    try {
      return (loaded = load());
    } catch (err) {
      failure = new Error(`the ${name} package cannot be loaded on ${process.platform}-${process.arch}: ${(err as Error).message}`);
      throw failure;
    }
  };
}

const snappyLib = lazy('snappy', () => require('snappy') as typeof import('snappy'));
const lz4Lib = lazy('lz4-napi', () => require('lz4-napi') as typeof import('lz4-napi'));
const zstdLib = lazy('@mongodb-js/zstd', () => require('@mongodb-js/zstd') as typeof import('@mongodb-js/zstd'));

/**
 * Java clients frame snappy the way snappy-java's SnappyOutputStream does: an 8-byte magic, two
 * int32 versions, then chunks of int32 length + raw snappy block. librdkafka may write one raw
 * snappy block instead; snappy-java reads both, and so does this.
 */
export const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
const XERIAL_HEADER_BYTES = 16;
/** snappy-java's default block size: what a Java producer writes. */
const XERIAL_BLOCK_BYTES = 32 * 1024;

export async function xerialSnappyCompress(data: Buffer): Promise<Buffer> {
  const { compress } = snappyLib();
  const header = Buffer.alloc(XERIAL_HEADER_BYTES);
  XERIAL_MAGIC.copy(header, 0);
  header.writeInt32BE(1, 8);
  header.writeInt32BE(1, 12);
  const parts: Buffer[] = [header];
  for (let at = 0; at < data.length; at += XERIAL_BLOCK_BYTES) {
    const block = await compress(data.subarray(at, at + XERIAL_BLOCK_BYTES));
    const length = Buffer.alloc(4);
    length.writeInt32BE(block.length, 0);
    parts.push(length, block);
  }
  return Buffer.concat(parts);
}

export async function snappyDecompress(data: Buffer): Promise<Buffer> {
  const { uncompress } = snappyLib();
  if (data.length < XERIAL_HEADER_BYTES || !data.subarray(0, XERIAL_MAGIC.length).equals(XERIAL_MAGIC)) {
    return (await uncompress(data)) as Buffer;
  }
  const blocks: Buffer[] = [];
  for (let at = XERIAL_HEADER_BYTES; at < data.length; ) {
    if (at + 4 > data.length) throw new Error(`xerial snappy: truncated chunk length at byte ${at}`);
    const length = data.readInt32BE(at);
    if (length < 0 || at + 4 + length > data.length) throw new Error(`xerial snappy: chunk of ${length} bytes at byte ${at} runs past the end (${data.length})`);
    blocks.push((await uncompress(data.subarray(at + 4, at + 4 + length))) as Buffer);
    at += 4 + length;
  }
  return Buffer.concat(blocks);
}

const gzip = promisify(zlib.gzip);
const unzip = promisify(zlib.unzip);

const codecs: Record<number, Codec> = {
  [CompressionTypes.GZIP]: { compress: (d) => gzip(d), decompress: (d) => unzip(d) },
  [CompressionTypes.Snappy]: { compress: xerialSnappyCompress, decompress: snappyDecompress },
  // The LZ4 frame format, as Kafka's clients write it for record batches (magic 2): independent
  // blocks with a correct header checksum. The broken checksum of Kafka's first LZ4 framing
  // existed only in magic 0 message sets, which the broker converts and no client here writes.
  [CompressionTypes.LZ4]: { compress: (d) => lz4Lib().compressFrame(d), decompress: (d) => lz4Lib().decompressFrame(d) },
  // Level 3: zstd's default, as Java clients use unless compression.zstd.level says otherwise.
  [CompressionTypes.ZSTD]: { compress: (d) => zstdLib().compress(d, 3), decompress: (d) => zstdLib().decompress(d) },
};

/** The bytes of one batch's records, decompressed; failures become UndecodableBatchError. */
export async function decompressBatch(codecId: number, compressed: Buffer): Promise<Buffer> {
  const codec = codecs[codecId];
  const name = CODEC_NAMES[codecId] ?? `unknown codec id ${codecId}`;
  try {
    if (!codec) throw new Error('no such Kafka compression codec');
    return await codec.decompress(compressed);
  } catch (err) {
    throw new UndecodableBatchError(name, batchPositionBefore(compressed, codecId), (err as Error).message);
  }
}

export async function compressBatch(codecId: number, records: Buffer): Promise<Buffer> {
  const codec = codecs[codecId];
  if (!codec) throw new Error(`no Kafka compression codec with id ${codecId}`);
  return codec.compress(records);
}

let registered = false;

/**
 * Installs the codecs into kafkajs's global table, once per process. Ids 5-7 are not Kafka
 * codecs; kafkajs would read such a batch as uncompressed garbage, so they fail loudly instead.
 */
export function registerCodecs(): void {
  if (registered) return;
  registered = true;
  const table = CompressionCodecs as unknown as Record<number, () => { compress(encoder: { buffer: Buffer }): Promise<Buffer>; decompress(data: Buffer): Promise<Buffer> }>;
  for (const id of [1, 2, 3, 4, 5, 6, 7]) {
    table[id] = () => ({
      compress: (encoder) => compressBatch(id, encoder.buffer),
      decompress: (data) => decompressBatch(id, data),
    });
  }
}

/** The UndecodableBatchError inside an error kafkajs wrapped (its `cause` chain), if any. */
export function undecodableCause(err: unknown): UndecodableBatchError | null {
  for (let e = err as { cause?: unknown } | undefined, depth = 0; e && depth < 10; e = e.cause as { cause?: unknown } | undefined, depth++) {
    if (e instanceof UndecodableBatchError) return e;
  }
  return null;
}
