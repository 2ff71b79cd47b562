import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KafkaMessage } from 'kafkajs';
import { buildBatch, halveSlice, prepareFetched, prepareMessage } from '../../../src/consumer/batch';
import { createHostileGenerator } from '../../../src/domain/hostile';
import { parseEvent, type SourcedEvent } from '../../../src/domain/transaction';
import { createGenerator } from '../../../src/producer/generator';
import { originalOf, packEventJson, packedEventTexts, unpackEvents } from '../../../src/temporal/packedBatch';

const rules = { maxAmountMinor: '100000', currencies: ['EUR'] };
const message = (offset: number, value: string): KafkaMessage =>
  ({ key: null, value: Buffer.from(value), offset: String(offset), timestamp: '0', attributes: 0, size: 0, headers: {} }) as unknown as KafkaMessage;
const event = (n: number) =>
  JSON.stringify({ id: `019a0000-0000-7000-8000-${String(n).padStart(12, '0')}`, account: 'acc-1', type: 'credit', amountMinor: '10', currency: 'EUR', occurredAt: '2026-11-25T08:01:30.000Z' });

test('a batch over two partitions: valid events as JSON with their source, malformed ones by partition, one header', async () => {
  const p0 = [message(7, event(1)), message(8, '{"id":')];
  const p3 = [message(2, event(2))];
  const { header, eventJson, malformed } = buildBatch('tx', [{ partition: 0, messages: p0 }, { partition: 3, messages: p3 }], rules, 1234);
  assert.deepEqual(header, {
    batchId: 'tx-tx-0-7+1',
    topic: 'tx',
    partition: 0,
    firstOffset: '7',
    lastOffset: '8',
    parts: [
      { partition: 0, firstOffset: '7', lastOffset: '8' },
      { partition: 3, firstOffset: '2', lastOffset: '2' },
    ],
    eventCount: 2,
    rules,
    receivedAtMs: 1234,
  });
  assert.deepEqual(malformed.map((m) => [m.partition, m.rejected.map((r) => r.message.offset)]), [[0, ['8']]]);
  const events = await unpackEvents(await packEventJson(eventJson), header.eventCount);
  assert.deepEqual(events.map((e) => [e.partition, e.offset, e.amountMinor]), [[0, '7', '10'], [3, '2', '10']]);
});

test('a message prepared when fetched is not parsed again; the rest are parsed when the batch is built', () => {
  const fetched = message(5, event(3));
  prepareFetched([fetched], 1);
  (fetched as { value: Buffer }).value = Buffer.from('not parsed again');
  const late = message(6, event(4));
  const { eventJson, malformed } = buildBatch('tx', [{ partition: 1, messages: [fetched, late] }], rules, 0);
  assert.deepEqual(malformed, []);
  assert.deepEqual(eventJson.map((j) => JSON.parse(j).offset), ['5', '6']);
  assert.deepEqual(eventJson[0], (prepareMessage(message(5, event(3)), 1) as { json: string }).json);
});

test('a prepared event reads back as exactly the parsed event and its source, whether its text is reused or rendered again', () => {
  const generated = createGenerator({ accounts: 300, seed: 3, malformedRatio: 0.1 });
  const hostile = createHostileGenerator({ seed: 9, hostileRatio: 1, rules });
  const base = JSON.parse(event(1)) as Record<string, unknown>;
  const handWritten = [
    ` \n{ "id" : "${base.id as string}", "account":"acc-1","type":"credit","amountMinor":"10","currency":"EUR","occurredAt":"2026-11-25T08:01:30.000Z" }\t\n`,
    JSON.stringify({ ...base, amountMinor: 10 }), // normalised: rendered again
    JSON.stringify({ ...base, occurredAt: '2026-11-25T09:01:30+01:00' }), // normalised: rendered again
    `${JSON.stringify(base).slice(0, -1)},"amountMinor":"99"}`, // a duplicate key: the last one counts, in both readings
    JSON.stringify({ ...base, account: 'acc\u002d1', description: 'caf\u00e9 \"x\" }' }),
  ];
  const values: Array<Buffer | null> = handWritten.map((v) => Buffer.from(v));
  for (let i = 0; i < 3000; i++) values.push(generated().value, hostile.next().value);
  let reused = 0;
  values.forEach((value, i) => {
    const parsed = parseEvent(value);
    const prepared = prepareMessage({ ...message(1000 + i, ''), value } as KafkaMessage, 4);
    assert.equal(prepared.ok, parsed.ok);
    if (!parsed.ok || !prepared.ok) return;
    const { original, ...event } = JSON.parse(prepared.json) as SourcedEvent;
    if (original === undefined) reused += 1;
    assert.deepEqual(event, { ...parsed.event, partition: 4, offset: String(1000 + i) });
    // The message's own bytes can be read back from the packed text (what a parked event keeps).
    const back = originalOf({ ...event, ...(original === undefined ? {} : { original }) }, prepared.json);
    assert.equal(back.exact, true);
    assert.deepEqual(back.bytes, value);
  });
  assert.ok(reused > 2000, `most generated events are passed on as sent (${reused})`);
});

test('halving a slice keeps every message once, in order, and splits the part the middle falls in', () => {
  const offsets = (parts: ReadonlyArray<{ partition: number; messages: ReadonlyArray<KafkaMessage> }>) => parts.map((p) => [p.partition, p.messages.map((m) => m.offset)]);
  const slice = [
    { partition: 0, messages: [message(1, event(1)), message(2, event(2))] },
    { partition: 4, messages: [message(10, event(3)), message(11, event(4)), message(12, event(5))] },
  ];
  const [first, second] = halveSlice(slice);
  assert.deepEqual(offsets(first), [[0, ['1', '2']]]);
  assert.deepEqual(offsets(second), [[4, ['10', '11', '12']]]);
  const [a, b] = halveSlice([{ partition: 2, messages: [message(5, event(1)), message(6, event(2)), message(7, event(3))] }, { partition: 3, messages: [message(1, event(4))] }]);
  assert.deepEqual(offsets(a), [[2, ['5', '6']]]);
  assert.deepEqual(offsets(b), [[2, ['7']], [3, ['1']]]);
  const [x, y] = halveSlice([{ partition: 9, messages: [message(3, event(1)), message(4, event(2))] }]);
  assert.deepEqual([offsets(x), offsets(y)], [[[9, ['3']]], [[9, ['4']]]]);
  assert.throws(() => halveSlice([{ partition: 9, messages: [message(3, event(1))] }]), /two or more/);
});

test('a packed batch splits back into each event\'s text, whatever its strings hold', async () => {
  const values = [
    event(1),
    JSON.stringify({ ...(JSON.parse(event(2)) as object), description: 'braces } { [ ] and "quotes" \\ and \u00e9' }),
    JSON.stringify({ ...(JSON.parse(event(3)) as object), amountMinor: 10 }), // rendered again: carries its original
  ];
  const prepared = values.map((v, i) => prepareMessage(message(20 + i, v), 2) as { ok: true; json: string });
  const packed = await packEventJson(prepared.map((p) => p.json));
  const texts = await packedEventTexts(packed);
  assert.deepEqual(texts, prepared.map((p) => p.json));
  const events = await unpackEvents(packed, values.length);
  events.forEach((e, i) => assert.equal(originalOf(e, texts[i]).bytes.toString('utf8'), values[i]));
  // An inline event (no packed text, no original) is rendered from its fields, and says so.
  const { bytes, exact } = originalOf(events[0] as SourcedEvent, undefined);
  assert.equal(exact, false);
  assert.deepEqual(JSON.parse(bytes.toString('utf8')), JSON.parse(values[0] as string));
});
