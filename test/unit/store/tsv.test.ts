import assert from 'node:assert/strict';
import { test } from 'node:test';
import { tsvOf } from '../../../src/store/load';
import { fromDbDateTime, toDbDateTime } from '../../../src/store/pool';

test('LOAD DATA text: NULL as \\N, numbers as digits, backslash, tab and newline escaped, one line per row', () => {
  const text = tsvOf([
    ['a', null, 12, undefined, 'x\ty\nz\\w'],
    ['', 0, 'café', '\\N', '-'],
  ]).toString('utf8');
  assert.equal(text, 'a\t\\N\t12\t\\N\tx\\ty\\nz\\\\w\n\t0\tcafé\t\\\\N\t-\n');
  assert.equal(tsvOf([]).length, 0);
});

test('DATETIME literals: the canonical instant and other ISO forms give the same text, and read back', () => {
  assert.equal(toDbDateTime('2026-11-25T09:00:01.250Z'), '2026-11-25 09:00:01.250');
  assert.equal(toDbDateTime('2026-11-25T09:00:01Z'), '2026-11-25 09:00:01');
  assert.equal(toDbDateTime('2026-11-25T09:00:01.2Z'), '2026-11-25 09:00:01.2');
  assert.equal(fromDbDateTime(toDbDateTime('2026-11-25T09:00:01.250Z')), '2026-11-25T09:00:01.250Z');
});
