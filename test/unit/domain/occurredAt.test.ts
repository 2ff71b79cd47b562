import assert from 'node:assert/strict';
import { test } from 'node:test';
import { normalisedInstant, OCCURRED_AT_PATTERN } from '../../../src/domain/occurredAt';

const EARLIEST_MS = Date.UTC(2000, 0, 1);
const LATEST_MS = Date.UTC(2100, 0, 1);
const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** The rule in plain code: a real day of 2000-2099, a real time and zone, and an instant in [2000, 2100) UTC. */
function accepted(year: number, month: number, day: number, zone: string): boolean {
  const inMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (year < 2000 || year > 2099 || month < 1 || month > 12 || day < 1 || day > inMonth) return false;
  const ms = Date.parse(`${year}-${pad(month)}-${pad(day)}T12:00:00${zone}`);
  return ms >= EARLIEST_MS && ms < LATEST_MS;
}

test('the pattern accepts exactly the real days of 2000-2099, leap days included', () => {
  let days = 0;
  for (let year = 1999; year <= 2100; year++) {
    for (let month = 0; month <= 13; month++) {
      for (let day = 0; day <= 32; day++) {
        const text = `${pad(year, 4)}-${pad(month)}-${pad(day)}T12:00:00Z`;
        const want = accepted(year, month, day, 'Z');
        assert.equal(OCCURRED_AT_PATTERN.test(text), want, text);
        if (want) days += 1;
      }
    }
  }
  assert.equal(days, 36_525, 'every day of the century, once');
});

test('on the edge days the zone may not move the instant out of [2000, 2100)', () => {
  const cases: Array<[string, boolean]> = [
    ['2000-01-01T00:00:00Z', true],
    ['2000-01-01T00:00:00+00:00', true],
    ['2000-01-01T00:00:00-05:00', true],
    ['2000-01-01T00:30:00+01:00', false],
    ['2000-01-01T12:00:00+01:00', false], // in range, but outside the rule that a pattern can state
    ['2000-01-02T00:30:00+01:00', true],
    ['2099-12-31T23:59:59.999Z', true],
    ['2099-12-31T23:30:00+05:00', true],
    ['2099-12-31T23:30:00-01:00', false],
    ['2099-12-30T23:30:00-01:00', true],
    ['2026-11-25T08:00:00.123456789+05:30', true],
    ['2026-11-25T24:00:00Z', false],
    ['2026-11-25T08:00:60Z', false],
    ['2026-11-25T08:00:00+24:00', false],
    ['2026-11-25T08:00:00', false],
    ['2026-11-25T08:00:00Z\n', false],
    ['2026-11-25 08:00:00Z', false],
    ['２026-11-25T08:00:00Z', false],
  ];
  for (const [text, want] of cases) {
    assert.equal(OCCURRED_AT_PATTERN.test(text), want, text);
    const instant = normalisedInstant(text);
    assert.equal(instant !== null, want, text);
    if (instant) assert.ok(Date.parse(instant) >= EARLIEST_MS && Date.parse(instant) < LATEST_MS, text);
  }
  assert.equal(normalisedInstant('2026-11-25T09:00:00+01:00'), '2026-11-25T08:00:00.000Z');
});
