import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { loadConfig } from '../../../src/config';
import { LedgerflowError } from '../../../src/domain/errors';
import { describeTlsFailure } from '../../../src/net/tls';
import { aclMarkdown, pipelineAcls } from '../../../src/kafka/acls';
import { explainKafkaStartError, isAuthorizationRefusal, kafkaSasl, kafkaTls } from '../../../src/kafka/security';
import { explainDbStartError } from '../../../src/store/security';
import { explainTemporalStartError, temporalConnectionOptions } from '../../../src/temporal/connection';

const secured = loadConfig({ 'kafka.ssl': true, 'kafka.saslMechanism': 'scram-sha-512', 'kafka.saslUsername': 'ledgerflow-consumer', 'kafka.saslPassword': 'pw' }, {});

function expectError(err: unknown, code: string, mentions: RegExp): void {
  assert.ok(err instanceof LedgerflowError, `a LedgerflowError, got ${String(err)}`);
  assert.equal(err.code, code);
  assert.match(err.message, mentions);
  assert.ok(!err.message.includes('\n'), 'one line');
}

test('docs/security.md carries the ACL table generated from src/kafka/acls.ts', () => {
  const doc = fs.readFileSync(path.resolve(__dirname, '..', '..', '..', 'docs', 'security.md'), 'utf8');
  const table = /<!-- acl-table:start -->\n([\s\S]*?)\n<!-- acl-table:end -->/.exec(doc)?.[1];
  assert.equal(table, aclMarkdown((role) => `ledgerflow-${role}`), 'regenerate the table with aclMarkdown()');
});

test('least privilege: no role may create, delete or alter, and only the consumer writes the DLQ', () => {
  const acls = pipelineAcls({ topic: 't', dlqTopic: 't.dlq', groupId: 'g' });
  assert.deepEqual([...new Set(acls.map((a) => a.operation))].sort(), ['DESCRIBE', 'READ', 'WRITE']);
  assert.deepEqual(acls.filter((a) => a.operation === 'WRITE').map((a) => `${a.role}:${a.name}`), ['producer:t', 'api:t', 'consumer:t.dlq']);
  assert.deepEqual(acls.filter((a) => a.resource === 'group' && a.operation === 'READ').map((a) => `${a.role}:${a.name}`), ['consumer:g', 'verify:ledgerflow-verify-']);
});

test('kafka TLS and SASL options come from the settings; a CA path turns TLS on and is read as a file', () => {
  assert.equal(kafkaTls(loadConfig({}, {})), false);
  assert.equal(kafkaTls(secured), true);
  assert.deepEqual(kafkaSasl(secured), { mechanism: 'scram-sha-512', username: 'ledgerflow-consumer', password: 'pw' });
  assert.throws(() => kafkaTls(loadConfig({ 'kafka.sslCaPath': '/nonexistent/ca.crt' }, {})), /kafka\.sslCaPath \(LF_KAFKA_SSL_CA_PATH\): cannot read \/nonexistent\/ca\.crt: ENOENT/);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lf-sec-'));
  try {
    fs.writeFileSync(path.join(dir, 'pw'), 'from-file\n', { mode: 0o600 });
    assert.deepEqual(kafkaSasl(loadConfig({ 'kafka.saslMechanism': 'plain', 'kafka.saslUsername': 'u', 'kafka.saslPasswordFile': path.join(dir, 'pw') }, {})), { mechanism: 'plain', username: 'u', password: 'from-file' });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('kafka start errors become one line naming the setting to fix', () => {
  const sasl = Object.assign(new Error('SASL SCRAM SHA512 authentication failed: invalid credentials'), { name: 'KafkaJSSASLAuthenticationError' });
  expectError(explainKafkaStartError(secured, { name: 'KafkaJSNonRetriableError', cause: sasl }, 'connecting'), 'LF_KAFKA_AUTH', /"ledgerflow-consumer".*LF_KAFKA_SASL_PASSWORD/);
  const cert = { name: 'KafkaJSConnectionError', message: 'Connection error: unable to verify the first certificate' };
  expectError(explainKafkaStartError(secured, cert, 'connecting'), 'LF_KAFKA_TLS', /does not trust.*LF_KAFKA_SSL_CA_PATH/);
  const acl = { name: 'KafkaJSAggregateError', errors: [{ name: 'KafkaJSProtocolError', type: 'GROUP_AUTHORIZATION_FAILED' }] };
  expectError(explainKafkaStartError(secured, acl, 'joining'), 'LF_KAFKA_AUTH', /GROUP_AUTHORIZATION_FAILED.*docs\/security\.md/);
  assert.ok(isAuthorizationRefusal(acl));
  const closed = { name: 'KafkaJSNonRetriableError', cause: { name: 'KafkaJSConnectionClosedError', message: 'Closed connection' } };
  expectError(explainKafkaStartError(loadConfig({}, {}), closed, 'connecting'), 'LF_KAFKA_TLS', /plaintext handshake.*LF_KAFKA_SSL/);
  const down = { name: 'KafkaJSNumberOfRetriesExceeded', cause: { name: 'KafkaJSConnectionError', message: 'connect ECONNREFUSED 127.0.0.1:9092' } };
  assert.equal(explainKafkaStartError(secured, down, 'connecting'), down, 'a broker that is down is not a settings problem');
  assert.ok(!isAuthorizationRefusal(down));
});

test('database start errors: plaintext refusals name db.tls, certificate refusals db.tlsCaPath', () => {
  const denied = { errno: 1045, code: 'ER_ACCESS_DENIED_ERROR', message: "Access denied for user 'ledgerflow_app'@'127.0.0.1' (using password: YES)" };
  expectError(explainDbStartError(loadConfig({}, {}), 'app', denied), 'LF_DB_AUTH', /ledgerflow_app.*LF_DB_PASSWORD.*plaintext.*LF_DB_TLS=true/);
  const overTls = explainDbStartError(loadConfig({ 'db.tls': true }, {}), 'migrate', denied) as Error;
  expectError(overTls, 'LF_DB_AUTH', /ledgerflow_migrate.*LF_DB_MIGRATION_PASSWORD/);
  assert.doesNotMatch(overTls.message, /plaintext/);
  expectError(explainDbStartError(loadConfig({}, {}), 'app', { errno: 3159, message: 'Connections using insecure transport are prohibited while --require_secure_transport=ON.' }), 'LF_DB_TLS', /requires TLS/);
  expectError(explainDbStartError(loadConfig({ 'db.tls': true }, {}), 'app', { code: 'SELF_SIGNED_CERT_IN_CHAIN', message: 'self-signed certificate in certificate chain' }), 'LF_DB_TLS', /LF_DB_TLS_CA_PATH/);
  const lost = { errno: 2013, code: 'PROTOCOL_CONNECTION_LOST', message: 'lost' };
  assert.equal(explainDbStartError(loadConfig({}, {}), 'app', lost), lost);
});

test('temporal: TLS is on with a CA or a client certificate; a certificate without its key is refused', () => {
  assert.equal(temporalConnectionOptions(loadConfig({}, {})).tls, undefined);
  assert.deepEqual(temporalConnectionOptions(loadConfig({ 'temporal.tls': true, 'temporal.tlsServerName': 'frontend.internal' }, {})).tls, { serverNameOverride: 'frontend.internal' });
  assert.throws(() => temporalConnectionOptions(loadConfig({ 'temporal.tlsCertPath': '/x.crt' }, {})), /LF_TEMPORAL_TLS_CERT_PATH.*LF_TEMPORAL_TLS_KEY_PATH.*go together/);
  expectError(explainTemporalStartError(loadConfig({}, {}), new Error('tcp connect error: invalid peer certificate: UnknownIssuer')), 'LF_TEMPORAL_TLS', /LF_TEMPORAL_TLS_CA_PATH/);
});

test('certificate refusals are recognised by code and by the texts clients keep', () => {
  assert.match(describeTlsFailure({ code: 'CERT_HAS_EXPIRED' }) ?? '', /expired/);
  assert.match(describeTlsFailure({ code: 'ERR_TLS_CERT_ALTNAME_INVALID' }) ?? '', /another host name/);
  assert.match(describeTlsFailure(new Error('self-signed certificate in certificate chain')) ?? '', /does not trust/);
  assert.equal(describeTlsFailure(new Error('connect ECONNREFUSED')), undefined);
});

test('a TLS handshake tells a refused server certificate from a refused client certificate and from plaintext', async () => {
  const net = await import('node:net');
  const { speaksTls, tlsHandshakeRefusal } = await import('../../../src/net/tls');
  // A plaintext server: whatever it answers is not a TLS ServerHello.
  const plain = net.createServer((s) => s.end('HTTP/1.1 400 Bad Request\r\n\r\n'));
  await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
  try {
    const plainPort = (plain.address() as { port: number }).port;
    assert.equal((await tlsHandshakeRefusal('127.0.0.1', plainPort, {}))?.side, 'not-tls');
    assert.equal(await speaksTls('127.0.0.1', plainPort), false);
  } finally {
    plain.close();
  }
  // Nothing listening is not a refusal: the client's own retries deal with it.
  const closed = net.createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const port = (closed.address() as { port: number }).port;
  await new Promise((resolve) => closed.close(resolve));
  assert.equal(await tlsHandshakeRefusal('127.0.0.1', port, {}), undefined);
});
