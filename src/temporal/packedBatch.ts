import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { invariant } from '../domain/errors';
import type { SourcedEvent } from '../domain/transaction';

const gzip = promisify(zlib.gzip);
const gunzip = promisify(zlib.gunzip);

/**
 * A batch's events as one blob: gzipped JSON (level 1: a batch's JSON is mostly repeated keys and
 * shrinks about 5×). Temporal carries it as a binary payload, which no converter parses and the
 * payload codec leaves as it is, so the consumer encodes it once and the activity decodes it once,
 * instead of the JSON round trips through the workflow sandbox and the codec (decision 012).
 */
export async function packEvents(events: ReadonlyArray<SourcedEvent>): Promise<Uint8Array> {
  return packEventJson(events.map((e) => JSON.stringify(e)));
}

/** The same from each event's JSON (the consumer renders it when the message is fetched). */
export async function packEventJson(eventJson: ReadonlyArray<string>): Promise<Uint8Array> {
  return new Uint8Array(await gzip(Buffer.from(`[${eventJson.join(',')}]`, 'utf8'), { level: 1 }));
}

/** The events of a packed blob; `eventCount` is what the batch header says it holds. */
export async function unpackEvents(packed: Uint8Array, eventCount: number): Promise<SourcedEvent[]> {
  const bytes = await gunzip(packed);
  const events = JSON.parse(bytes.toString('utf8')) as unknown;
  invariant(Array.isArray(events) && events.length === eventCount, 'a packed batch holds the number of events its header says', { eventCount, found: Array.isArray(events) ? events.length : typeof events });
  return events as SourcedEvent[];
}
