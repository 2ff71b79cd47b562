import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatMinor, parseMinor } from '../../../src/domain/money';

test('parseMinor keeps every digit of amounts beyond 2^53', () => {
  assert.equal(parseMinor('9007199254740993'), 9007199254740993n);
  assert.equal(parseMinor('0'), 0n);
});

test('parseMinor refuses fractions, signs, exponents and leading zeros', () => {
  for (const bad of ['12.50', '-1', '+1', '1e3', '007', '', ' 1', '99999999999999999999']) {
    assert.throws(() => parseMinor(bad), { code: 'LF_INVALID_EVENT' }, bad);
  }
});

test('formatMinor renders minor units exactly', () => {
  assert.equal(formatMinor(1250n), '12.50');
  assert.equal(formatMinor(5n), '0.05');
  assert.equal(formatMinor(-100n), '-1.00');
  assert.equal(formatMinor(123n, 0), '123');
});
