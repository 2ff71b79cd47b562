import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LedgerflowError } from '../../../src/domain/errors';
import { dockerfileArgDefaults, normalizeImageRef } from '../../../src/image/refs';

test('image references resolve as Docker and a Kubernetes node resolve them', () => {
  assert.equal(normalizeImageRef('ledgerflow'), 'docker.io/library/ledgerflow:latest');
  assert.equal(normalizeImageRef('ledgerflow:0.1.0'), 'docker.io/library/ledgerflow:0.1.0');
  assert.equal(normalizeImageRef('team/ledgerflow:dev'), 'docker.io/team/ledgerflow:dev');
  assert.equal(normalizeImageRef('registry.example.com/ledgerflow:1.2.3'), 'registry.example.com/ledgerflow:1.2.3');
  assert.equal(normalizeImageRef('registry.example.com:5000/a/b:x'), 'registry.example.com:5000/a/b:x');
  assert.equal(normalizeImageRef('localhost/ledgerflow:t'), 'localhost/ledgerflow:t');
  assert.equal(normalizeImageRef('localhost:5000/ledgerflow'), 'localhost:5000/ledgerflow:latest');
  assert.equal(normalizeImageRef('docker.io/library/ledgerflow:0.1.0'), 'docker.io/library/ledgerflow:0.1.0');
});

test('a reference that no registry would take is refused with LF_IMAGE, naming it', () => {
  for (const bad of ['Ledgerflow:1', 'ledgerflow:', 'ledgerflow:-x', 'ledgerflow@sha256:abc', 'a//b', '']) {
    assert.throws(() => normalizeImageRef(bad), (err: unknown) => err instanceof LedgerflowError && err.code === 'LF_IMAGE' && err.message.includes(JSON.stringify(bad)), bad);
  }
});

test('ARG defaults are read from a Dockerfile; an ARG without one is not a default', () => {
  const args = dockerfileArgDefaults('ARG A=x:1\nARG B\n  ARG C=no\nARG D=gcr.io/y/z:nonroot\nFROM ${A}\n');
  assert.deepEqual(args, { A: 'x:1', D: 'gcr.io/y/z:nonroot' });
});
