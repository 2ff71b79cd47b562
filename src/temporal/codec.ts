import { promisify } from 'node:util';
import zlib from 'node:zlib';
import type { DataConverter, Payload, PayloadCodec } from '@temporalio/common';

const gzip = promisify(zlib.gzip);
const gunzip = promisify(zlib.gunzip);

const GZIP_ENCODING = 'binary/gzip';
const ORIGINAL_ENCODING = 'ledgerflow-original-encoding';
const utf8 = (s: string) => new TextEncoder().encode(s);

const JSON_ENCODING = 'json/plain';
const isJson = (payload: Payload) => payload.metadata?.encoding !== undefined && new TextDecoder().decode(payload.metadata.encoding) === JSON_ENCODING;

/**
 * JSON payloads at or above this size are gzipped; smaller ones (batch headers, signals, results,
 * review inputs) stay plain, so the Temporal UI and CLI still show them.
 */
export const COMPRESS_FROM_BYTES = 16 * 1024;

/**
 * Gzips large JSON payloads on their way to Temporal and back: batches written with their events
 * inline (before decision 012), which shrink about 5×. Binary payloads pass as they are: the one
 * large binary payload, a batch's packed events, is gzipped already. Decoding passes every other
 * payload through unchanged, so histories written before the codec still replay and are still read.
 *
 * Runs in the client (consumer) and the worker, outside the workflow sandbox (not workflow code).
 */
export class GzipPayloadCodec implements PayloadCodec {
  async encode(payloads: Payload[]): Promise<Payload[]> {
    return Promise.all(
      payloads.map(async (payload) => {
        const data = payload.data;
        if (!data || data.length < COMPRESS_FROM_BYTES || !isJson(payload)) return payload;
        const metadata: Record<string, Uint8Array> = { ...(payload.metadata ?? {}) };
        if (metadata.encoding) metadata[ORIGINAL_ENCODING] = metadata.encoding;
        metadata.encoding = utf8(GZIP_ENCODING);
        return { metadata, data: new Uint8Array(await gzip(data, { level: 1 })) };
      }),
    );
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return Promise.all(
      payloads.map(async (payload) => {
        const encoding = payload.metadata?.encoding;
        if (!encoding || new TextDecoder().decode(encoding) !== GZIP_ENCODING || !payload.data) return payload;
        const { [ORIGINAL_ENCODING]: original, ...metadata } = payload.metadata ?? {};
        if (original) metadata.encoding = original;
        else delete metadata.encoding;
        return { metadata, data: new Uint8Array(await gunzip(payload.data)) };
      }),
    );
  }
}

/** The data converter every Ledgerflow Temporal client and worker uses. */
export function dataConverter(): DataConverter {
  return { payloadCodecs: [new GzipPayloadCodec()] };
}
