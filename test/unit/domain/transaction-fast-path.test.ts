import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createHostileGenerator } from '../../../src/domain/hostile';
import { acceptedEvent, transactionEventSchema } from '../../../src/domain/transaction';
import { createGenerator } from '../../../src/producer/generator';

const RULES = { maxAmountMinor: '100000000', overdraftLimitMinor: '0', currencies: ['EUR', 'USD'] };

/** The fast path may only accept what the schema accepts, with the same output. */
function agrees(json: unknown): boolean {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return false;
  const fast = acceptedEvent(json as Record<string, unknown>);
  const schema = transactionEventSchema.safeParse(json);
  if (fast === null) return false;
  assert.ok(schema.success, `fast path accepted what the schema refuses: ${JSON.stringify(json)}`);
  assert.deepEqual(fast, schema.data);
  return true;
}

function jsonOf(value: Buffer | null): unknown {
  try {
    return value === null ? null : JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(value));
  } catch {
    return null;
  }
}

test('the fast path accepts every valid generated event exactly as the schema outputs it', () => {
  const next = createGenerator({ accounts: 500, seed: 11, malformedRatio: 0.05 });
  let valid = 0;
  let fast = 0;
  for (let i = 0; i < 20_000; i++) {
    const m = next();
    const json = jsonOf(m.value);
    if (transactionEventSchema.safeParse(json).success) valid += 1;
    if (agrees(json)) fast += 1;
  }
  assert.ok(valid > 18_000);
  assert.equal(fast, valid, 'every valid generated event takes the fast path');
});

test('on hostile events the fast path never accepts what the schema refuses, nor changes a field', () => {
  const hostile = createHostileGenerator({ seed: 5, hostileRatio: 1, rules: RULES });
  let accepted = 0;
  for (let i = 0; i < 20_000; i++) if (agrees(jsonOf(hostile.next().value))) accepted += 1;
  assert.ok(accepted > 0, 'some hostile events are well-formed (rule rejections, duplicates)');
});

test('edge cases: the fast path defers to the schema or agrees with it', () => {
  const base = { id: '0192f3a4-5b6c-7d8e-9f01-23456789abcd', account: 'acct-1', type: 'credit', amountMinor: '1250', currency: 'EUR', occurredAt: '2026-11-25T09:00:00Z' };
  const cases: Array<[Record<string, unknown>, boolean]> = [
    [base, true],
    [{ ...base, amountMinor: 1250 }, true],
    [{ ...base, occurredAt: '2026-11-25T11:00:00.5+02:00' }, true],
    [{ ...base, description: 'café ☕' }, true],
    [{ ...base, type: 'transfer', counterparty: 'acct-2' }, true],
    [{ ...base, amountMinor: 0 }, false],
    [{ ...base, amountMinor: '0' }, false],
    [{ ...base, amountMinor: -5 }, false],
    [{ ...base, amountMinor: 1e21 }, false],
    [{ ...base, amountMinor: 12.5 }, false],
    [{ ...base, amountMinor: '01' }, false],
    [{ ...base, counterparty: null }, false],
    [{ ...base, counterparty: 'acct-2' }, false],
    [{ ...base, type: 'transfer' }, false],
    [{ ...base, description: null }, false],
    [{ ...base, description: 'x'.repeat(141) }, false],
    [{ ...base, description: '\ud800' }, false],
    [{ ...base, occurredAt: '2026-02-30T09:00:00Z' }, false],
    [{ ...base, occurredAt: '2026-11-25T09:00:00' }, false],
    [{ ...base, occurredAt: '1999-12-31T23:59:59Z' }, false],
    [{ ...base, currency: 'eur' }, false],
    [{ ...base, id: base.id.toUpperCase() }, false],
    [{ ...base, extra: 1 }, false],
    [JSON.parse(`{"__proto__": {"x": 1}, ${JSON.stringify(base).slice(1)}`) as Record<string, unknown>, false],
  ];
  for (const [json, fast] of cases) {
    assert.equal(agrees(json), fast, JSON.stringify(json));
    if (!fast) assert.equal(acceptedEvent(json), null);
  }
});
