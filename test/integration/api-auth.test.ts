import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startApi, type ApiHandle } from '../../src/api';
import { newCredential, type ApiScope } from '../../src/domain/credentials';
import { bearer, createTestKeys, type TestKeys } from '../helpers/apiKeys';
import { createTestPipeline, type TestPipeline } from '../helpers/pipeline';

/**
 * Nobody gets in without a credential of the right scope, on every operation the contract
 * documents: 401 without or with a bad credential, 403 with another scope, 429 over the limit,
 * rotation and revocation without a restart, and the live page's sign-in cookie. On the real
 * api process code against the local stack's Kafka and database.
 */
const RELOAD_MS = 200;
const SCOPES: ApiScope[] = ['ingest', 'read', 'review', 'metrics', 'operator'];
let env: TestPipeline;
let keys: TestKeys;
let api: ApiHandle;
let base: string;

before(async () => {
  keys = createTestKeys([...SCOPES.map((scope) => ({ id: `only-${scope}`, scopes: [scope] })), { id: 'limited', scopes: ['read'], rateLimitPerMinute: 5 }]);
  env = await createTestPipeline('api-auth', { 'api.keysFile': keys.file, 'api.keysReloadMs': RELOAD_MS });
  api = await startApi(env.config, env.log);
  base = `http://127.0.0.1:${api.port}`;
});

after(async () => {
  await api?.stop();
  await env?.dispose();
  keys?.remove();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ID = '019a0000-0000-7000-8000-00000000a001';
const BODIES: Record<string, unknown> = {
  'POST /transactions': { account: 'auth-acc', type: 'credit', amountMinor: '100', currency: 'EUR', occurredAt: '2026-11-25T08:00:00Z' },
  'POST /reviews/{id}/approve': { reviewer: 'alice', reason: 'checked' },
  'POST /reviews/{id}/reject': { reviewer: 'alice', reason: 'checked' },
};

interface Operation {
  method: string;
  path: string;
  scopes: string[] | null;
}

async function operations(): Promise<Operation[]> {
  const spec = (await (await fetch(`${base}/openapi.json`, { headers: bearer(keys.tokens['only-read'] as string) })).json()) as {
    paths: Record<string, Record<string, { security?: Array<Record<string, string[]>> }>>;
  };
  return Object.entries(spec.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => ({ method: method.toUpperCase(), path, scopes: op.security && op.security.length > 0 ? (op.security[0]?.bearerAuth ?? []) : null })),
  );
}

/** Sends the operation; for the endless /events stream only the status and headers are read. */
async function call(op: Operation, headers: Record<string, string> = {}): Promise<{ status: number; wwwAuthenticate: string | null; body: string }> {
  const url = `${base}${op.path.replace('{id}', ID).replace('{account}', 'auth-acc')}`;
  const body = BODIES[`${op.method} ${op.path}`];
  const controller = new AbortController();
  const res = await fetch(url, {
    method: op.method,
    signal: controller.signal,
    headers: { ...headers, ...(body ? { 'content-type': 'application/json', 'idempotency-key': `auth-${Math.random().toString(36).slice(2)}` } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const text = op.path === '/events' && res.status === 200 ? '' : await res.text();
  controller.abort();
  return { status: res.status, wwwAuthenticate: res.headers.get('www-authenticate'), body: text };
}

test('every documented operation but the probes and sign-out refuses a missing or bad credential (401) and another scope (403)', async () => {
  const ops = await operations();
  assert.deepEqual(
    ops.filter((o) => o.scopes === null).map((o) => `${o.method} ${o.path}`).sort(),
    ['DELETE /session', 'GET /healthz', 'GET /readyz'],
    'the only open operations: kubelet probes (they cannot send credentials) and sign-out',
  );
  const forged = newCredential('only-read', ['read']).token; // the right id and format, not the key on file
  let checked = 0;
  for (const op of ops.filter((o) => o.scopes !== null)) {
    const what = `${op.method} ${op.path}`;
    const none = await call(op);
    assert.equal(none.status, 401, `${what} without a credential: ${none.body}`);
    assert.equal(none.wwwAuthenticate, 'Bearer realm="ledgerflow"', what);
    assert.equal((JSON.parse(none.body) as { error: { code: string } }).error.code, 'LF_UNAUTHORIZED', what);
    for (const bad of [forged, 'lf_nobody.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', 'not-a-token']) {
      const res = await call(op, bearer(bad));
      assert.equal(res.status, 401, `${what} with ${bad.slice(0, 12)}…`);
      assert.match(res.wwwAuthenticate ?? '', /error="invalid_token"/, what);
    }
    assert.equal((await call(op, { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` })).status, 401, `${what} with Basic`);
    const allowed = (op.scopes as string[]).length === 0 ? SCOPES : (op.scopes as ApiScope[]);
    for (const scope of SCOPES) {
      const res = await call(op, bearer(keys.tokens[`only-${scope}`] as string));
      if (allowed.includes(scope)) {
        assert.ok(res.status !== 401 && res.status !== 403, `${what} with scope ${scope}: ${res.status} ${res.body}`);
      } else {
        assert.equal(res.status, 403, `${what} with scope ${scope}: ${res.body}`);
        assert.equal((JSON.parse(res.body) as { error: { code: string } }).error.code, 'LF_FORBIDDEN');
        assert.match(res.wwwAuthenticate ?? '', /error="insufficient_scope", scope="/, what);
      }
    }
    checked += 1;
  }
  assert.ok(checked >= 12, `checked ${checked} secured operations`);
});

test('over its rate limit a credential gets 429 with Retry-After; other credentials are not affected', async () => {
  const op: Operation = { method: 'GET', path: '/stats/summary', scopes: ['read'] };
  const statuses: number[] = [];
  let limited: Response | undefined;
  for (let i = 0; i < 7; i++) {
    const res = await fetch(`${base}/stats/summary`, { headers: bearer(keys.tokens.limited as string) });
    statuses.push(res.status);
    if (res.status === 429) limited = res;
    else await res.text();
  }
  assert.deepEqual(statuses, [200, 200, 200, 200, 200, 429, 429]);
  const retryAfter = Number(limited?.headers.get('retry-after'));
  assert.ok(Number.isInteger(retryAfter) && retryAfter > 0 && retryAfter <= 60, `Retry-After ${limited?.headers.get('retry-after')}`);
  assert.equal(((await (limited as Response).json()) as { error: { code: string } }).error.code, 'LF_RATE_LIMITED');
  assert.equal((await call(op, bearer(keys.tokens['only-read'] as string))).status, 200, 'another credential still gets in');
});

test('rotation and revocation take effect without a restart; a broken key file keeps the last good set', async () => {
  const op: Operation = { method: 'GET', path: '/stats/summary', scopes: ['read'] };
  const old = keys.tokens['only-read'] as string;
  const rotated = newCredential('only-read', ['read']);
  const others = keys.credentials.filter((c) => c.id !== 'only-read');
  keys.write([...others, rotated.credential]);
  await sleep(RELOAD_MS * 3);
  assert.equal((await call(op, bearer(rotated.token))).status, 200, 'the new token works');
  assert.equal((await call(op, bearer(old))).status, 401, 'the old one is refused');

  keys.write(others);
  await sleep(RELOAD_MS * 3);
  assert.equal((await call(op, bearer(rotated.token))).status, 401, 'revoked');

  keys.write([...others, rotated.credential]);
  await sleep(RELOAD_MS * 3);
  const { writeFileSync } = await import('node:fs');
  writeFileSync(keys.file, '{"keys": [ {"id": "half-writ');
  await sleep(RELOAD_MS * 3);
  assert.equal((await call(op, bearer(rotated.token))).status, 200, 'a file that does not parse changes nothing');
  const metrics = await (await fetch(`${base}/metrics`, { headers: bearer(keys.tokens['only-metrics'] as string) })).text();
  assert.match(metrics, /ledgerflow_api_key_reload_failures_total({[^}]*})? [1-9]/);
  keys.write(keys.credentials);
  await sleep(RELOAD_MS * 3);
});

test('the live page: sign in with a read credential, the cookie opens /events only, sign-out and revocation end it', async () => {
  const signIn = (token: string) => fetch(`${base}/session`, { method: 'POST', headers: bearer(token) });
  assert.equal((await signIn(keys.tokens['only-ingest'] as string)).status, 403, 'sign-in needs the read scope');
  const res = await signIn(keys.tokens['only-read'] as string);
  assert.equal(res.status, 200);
  const setCookie = res.headers.get('set-cookie') ?? '';
  assert.match(setCookie, /^lf_session=[A-Za-z0-9_-]{43};/);
  assert.match(setCookie, /HttpOnly/);
  assert.match(setCookie, /SameSite=Strict/);
  assert.match(setCookie, /Max-Age=28800/);
  const cookie = { cookie: setCookie.split(';')[0] as string };

  const events: Operation = { method: 'GET', path: '/events', scopes: ['read'] };
  assert.equal((await call(events, cookie)).status, 200, 'EventSource with the cookie');
  assert.deepEqual(JSON.parse(await (await fetch(`${base}/session`, { headers: cookie })).text()), { credential: 'only-read', scopes: ['read'] });
  assert.equal((await call({ method: 'GET', path: '/stats/summary', scopes: ['read'] }, cookie)).status, 401, 'the cookie is not a credential for the API itself');
  assert.equal((await call(events, { cookie: 'lf_session=forged-forged-forged-forged-forged-forged-forg' })).status, 401);

  const out = await fetch(`${base}/session`, { method: 'DELETE', headers: cookie });
  assert.equal(out.status, 204);
  assert.match(out.headers.get('set-cookie') ?? '', /lf_session=;/);
  assert.equal((await call(events, cookie)).status, 401, 'signed out: the old cookie is dead');

  const again = { cookie: ((await signIn(keys.tokens['only-read'] as string)).headers.get('set-cookie') ?? '').split(';')[0] as string };
  assert.equal((await call(events, again)).status, 200);
  keys.write(keys.credentials.filter((c) => c.id !== 'only-read'));
  await sleep(RELOAD_MS * 3);
  assert.equal((await call(events, again)).status, 401, 'revoking the credential ends its sessions');
  keys.write(keys.credentials);
  await sleep(RELOAD_MS * 3);
});
