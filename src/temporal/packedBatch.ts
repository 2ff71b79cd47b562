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

/**
 * The text of each event of a packed blob, in order, as the consumer wrote it: the blob's
 * top-level array split at its elements (every element is an object). Read only when an event is
 * parked, to keep the message's original bytes; the hot path never calls it.
 */
export async function packedEventTexts(packed: Uint8Array): Promise<string[]> {
  return topLevelObjects((await gunzip(packed)).toString('utf8'));
}

/** The objects of a JSON array text, as substrings (string contents, escapes and nesting respected). */
export function topLevelObjects(json: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let i = 0; i < json.length; i++) {
    const c = json.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i += 1; // a backslash escapes the next character
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (depth === 1 && c === 0x7b) start = i;
      depth += 1;
    } else if (c === 0x7d || c === 0x5d) {
      depth -= 1;
      if (depth === 1 && start >= 0) {
        out.push(json.slice(start, i + 1));
        start = -1;
      }
    }
  }
  return out;
}

/**
 * The Kafka message value an event was made from: its `original` when the consumer rendered the
 * event again, else its packed text without the source fields the consumer appended (see
 * prepareMessage). `exact` is false only for events without either (inline batches from before
 * decision 012): their bytes are rendered from the event.
 */
export function originalOf(event: SourcedEvent, packedText: string | undefined): { bytes: Buffer; exact: boolean } {
  if (event.original !== undefined) return { bytes: Buffer.from(event.original, 'utf8'), exact: true };
  const appended = `,"partition":${event.partition},"offset":"${event.offset}"}`;
  if (packedText !== undefined && packedText.endsWith(appended)) return { bytes: Buffer.from(`${packedText.slice(0, -appended.length)}}`, 'utf8'), exact: true };
  const { partition: _p, offset: _o, original: _x, ...fields } = event;
  return { bytes: Buffer.from(JSON.stringify(fields), 'utf8'), exact: false };
}
