import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hashToken, newCredential, parseKeySet, renderKeySet, verifyToken, withCredential } from '../../../src/domain/credentials';

test('a token verifies against its key-set entry and nothing else; only its hash is stored', () => {
  const { token, credential } = newCredential('shop', ['ingest']);
  assert.match(token, /^lf_shop\.[A-Za-z0-9_-]{43}$/);
  assert.equal(credential.sha256, hashToken(token));
  assert.ok(!JSON.stringify(credential).includes(token.split('.')[1] as string), 'the secret is not in the entry');
  const byId = new Map([[credential.id, credential]]);
  assert.equal(verifyToken(token, byId, Date.now())?.id, 'shop');
  const other = newCredential('shop', ['ingest']).token;
  for (const bad of [other, `${token}x`, token.slice(0, -1), token.replace('lf_shop', 'lf_shap'), '', 'Bearer x']) {
    assert.equal(verifyToken(bad, byId, Date.now()), null, bad);
  }
});

test('an expired credential is refused', () => {
  const { token, credential } = newCredential('old', ['read']);
  const byId = new Map([['old', { ...credential, expiresAt: '2026-01-01T00:00:00.000Z' }]]);
  assert.equal(verifyToken(token, byId, Date.parse('2025-12-31T23:59:59Z'))?.id, 'old');
  assert.equal(verifyToken(token, byId, Date.parse('2026-01-01T00:00:00Z')), null);
});

test('key files: rotation replaces by id, the rendering parses back, mistakes name their field', () => {
  const a = newCredential('a', ['read']).credential;
  const rotated = newCredential('a', ['read', 'review']).credential;
  const b = newCredential('b', ['metrics']).credential;
  const set = withCredential(withCredential({ keys: [a, b] }, rotated), b);
  assert.deepEqual(set.keys.map((k) => [k.id, k.scopes]), [['a', ['read', 'review']], ['b', ['metrics']]]);
  assert.deepEqual(parseKeySet(renderKeySet(set)), set);
  assert.throws(() => parseKeySet('{"keys": [{"id": "a"'), /not JSON/);
  assert.throws(() => parseKeySet(JSON.stringify({ keys: [{ ...a, scopes: ['admin'] }] })), /keys\.0\.scopes\.0/);
  assert.throws(() => parseKeySet(JSON.stringify({ keys: [a, a] })), /duplicate id a/);
  assert.throws(() => parseKeySet(JSON.stringify({ keys: [{ ...a, token: 'plain' }] })), /keys\.0/);
  assert.throws(() => newCredential('Bad_Id', ['read']), /credential id/);
});
