import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bufferPoolMb } from '../../../src/stack/mariadb';

const GiB = 1024 ** 3;

test('buffer pool: an explicit setting wins; 0 is a third of memory within [1 GiB, 8 GiB]', () => {
  assert.equal(bufferPoolMb(2048, 64 * GiB), 2048);
  assert.equal(bufferPoolMb(0, 24 * GiB), 8192);
  assert.equal(bufferPoolMb(0, 12 * GiB), 4096);
  assert.equal(bufferPoolMb(0, 2 * GiB), 1024);
  assert.equal(bufferPoolMb(0, 256 * GiB), 8192);
});
