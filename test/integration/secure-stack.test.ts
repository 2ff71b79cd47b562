import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Connection } from '@temporalio/client';
import { Kafka, logLevel, type Consumer, type KafkaConfig } from 'kafkajs';
import mysql from 'mysql2/promise';
import { loadConfig, readSettingFile, type Config } from '../../src/config';
import { startApi, type ApiHandle } from '../../src/api';
import { startConsumer, type ConsumerHandle } from '../../src/consumer';
import { createKafka } from '../../src/kafka/client';
import { kafkaSasl, kafkaTls } from '../../src/kafka/security';
import { startProducer } from '../../src/producer';
import { stackDown, stackStatus } from '../../src/stack';
import { serviceCerts } from '../../src/stack/certs';
import { dbPassword } from '../../src/config';
import { temporalConnectionOptions } from '../../src/temporal/connection';
import { createLogger } from '../../src/telemetry/log';
import { verify } from '../../src/verify';
import { startWorker, type WorkerHandle } from '../../src/worker';
import { bearer, createTestKeys } from '../helpers/apiKeys';
import { exited, spawnLedgerflow } from '../helpers/processes';
import { createSecureRun, type SecureRun } from '../helpers/secure-run';

/**
 * The secure profile (docs/security.md): Kafka that takes only SASL_SSL with SCRAM-SHA-512 and
 * enforces least-privilege ACLs, MariaDB that takes only TLS, Temporal's server that takes only
 * mTLS. The pipeline runs end to end on it and verify is clean; plaintext clients are refused;
 * wrong credentials stop a process at start with one line naming what to fix, and lose nothing.
 * The test starts the secure stack if it is not running and stops it again at the end.
 */

/** A fresh machine builds Temporal's server from the Go module proxy on the first `up`. */
const FIRST_UP_TIMEOUT_MS = 40 * 60_000;
const CHILD_TIMEOUT_MS = 180_000;

const base = loadConfig();
const log = createLogger('warn', 'secure-test');
let run: SecureRun;
let stackWasRunning = false;

before(async () => {
  stackWasRunning = (await stackStatus(base, 'secure')).every((s) => s.running);
  run = await createSecureRun('secure');
}, { timeout: FIRST_UP_TIMEOUT_MS });

after(async () => {
  await run?.dispose();
  if (!stackWasRunning) await stackDown(base, { profile: 'secure', log: () => undefined });
}, { timeout: 120_000 });

const certs = (authority: 'kafka' | 'mariadb' | 'temporal') => serviceCerts(run.ctx, authority);

/** kafkajs as the pipeline builds it (same TLS and SASL code), but failing on the first refusal. */
function rawKafka(config: Config, changes: Partial<KafkaConfig> = {}): Kafka {
  const sasl = kafkaSasl(config);
  return new Kafka({
    clientId: 'secure-test', brokers: config.kafka.brokers, ssl: kafkaTls(config), ...(sasl ? { sasl } : {}),
    logLevel: logLevel.NOTHING, connectionTimeout: 5_000, retry: { retries: 0 }, ...changes,
  });
}

/** Connects and lists topics: a SASL listener answers ApiVersions before any login, so connecting alone proves nothing. */
async function listTopics(kafka: Kafka): Promise<string[]> {
  const admin = kafka.admin();
  try {
    await admin.connect();
    return await admin.listTopics();
  } finally {
    await admin.disconnect();
  }
}

/** kafkajs gives a topic refusal its protocol type, or (wrapped by the producer) only the broker's text. */
const TOPIC_DENIED = /TOPIC_AUTHORIZATION_FAILED|Not authorized to access topics/;

async function refusedWith(work: Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(work, (err: Error & { type?: string; cause?: Error; errors?: Array<{ type?: string }> }) => {
    const text = `${err.name} ${err.type ?? ''} ${err.message} ${err.cause?.message ?? ''} ${(err.errors ?? []).map((e) => e.type).join(' ')}`;
    assert.match(text, pattern);
    return true;
  });
}

/**
 * Resolves with the error that crashed the consumer (kafkajs reports group failures as a crash
 * event). A group the user may not use shows as GROUP_AUTHORIZATION_FAILED, or, when kafkajs meets
 * the refusal while looking for the group's coordinator, as "coordinator not found" (it drops the reason).
 */
const GROUP_DENIED = /GROUP_AUTHORIZATION_FAILED|KafkaJSGroupCoordinatorNotFound/;

async function crashOf(consumer: Consumer, topic: string): Promise<string> {
  const crashed = new Promise<Error & { type?: string }>((resolve, reject) => {
    consumer.on(consumer.events.CRASH, (e) => resolve(e.payload.error as Error & { type?: string }));
    consumer
      .connect()
      .then(() => consumer.subscribe({ topic, fromBeginning: true }))
      .then(() => consumer.run({ eachMessage: async () => undefined }))
      .catch((err: Error & { type?: string }) => resolve(err));
    setTimeout(() => reject(new Error('the consumer neither crashed nor failed within 60 s')), 60_000);
  });
  try {
    const err = await crashed;
    return `${err.name} ${err.type ?? ''}`;
  } finally {
    await consumer.disconnect().catch(() => undefined);
  }
}

test('stack up --secure: Kafka, Temporal and MariaDB answer; secrets are private files that no log or env file holds', async () => {
  const statuses = await stackStatus(base, 'secure');
  assert.deepEqual(statuses.map((s) => [s.service, s.running, s.answering]), [['kafka', true, true], ['temporal', true, true], ['mariadb', true, true]]);
  const secrets: string[] = [];
  const walk = (dir: string): string[] => fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]));
  for (const file of walk(run.ctx.layout.secrets)) {
    if (file.endsWith('.crt')) continue;
    assert.equal(fs.statSync(file).mode & 0o777, 0o600, `${file} is mode 0600`);
    if (file.endsWith('.password')) {
      const value = fs.readFileSync(file, 'utf8').trim();
      assert.ok(value.length >= 24, `${file} holds a long random password`);
      secrets.push(value);
    }
  }
  assert.ok(secrets.length >= 9, 'kafka users and database accounts have generated passwords');
  const readable = [...walk(run.ctx.layout.logs), ...walk(path.join(run.ctx.layout.root, 'env'))];
  for (const file of readable) {
    const text = fs.readFileSync(file, 'utf8');
    for (const secret of secrets) assert.ok(!text.includes(secret), `${file} holds no password`);
  }
});

test('plaintext clients are refused by Kafka, MariaDB and Temporal; the same clients with TLS get in', { timeout: 180_000 }, async () => {
  const consumerConfig = run.configFor('consumer');
  const plaintext = loadConfig({ ...run.overrides, 'kafka.brokers': consumerConfig.kafka.brokers.join(',') });
  await refusedWith(listTopics(rawKafka(plaintext)), /Closed connection|ECONNRESET/i);
  const tlsWithoutSasl = { ...consumerConfig, kafka: { ...consumerConfig.kafka, saslMechanism: '' as const } };
  await refusedWith(listTopics(rawKafka(tlsWithoutSasl)), /Closed connection|ECONNRESET/i);
  // With TLS and its login the consumer's user gets in, and sees only the topics its ACLs name
  // (this run's and the stack's default pipeline's), not the other runs' or internal ones.
  const own = [String(run.overrides['kafka.topic']), String(run.overrides['kafka.dlqTopic'])];
  const visible = await listTopics(rawKafka(consumerConfig));
  for (const topic of own) assert.ok(visible.includes(topic), `${topic} is visible`);
  for (const topic of visible) assert.ok([...own, base.kafka.topic, base.kafka.dlqTopic].includes(topic), `${topic} is not visible to the consumer`);

  const worker = run.configFor('worker');
  const account = { host: worker.db.host, port: worker.db.port, user: worker.db.user, password: dbPassword(worker, 'app'), database: worker.db.name };
  // The right password without TLS is refused (MariaDB says "access denied" for require_secure_transport too) …
  await refusedWith(mysql.createConnection(account), /ER_ACCESS_DENIED_ERROR|Access denied/);
  // … and with TLS, verifying the server against the stack's CA, the same account gets in.
  const conn = await mysql.createConnection({ ...account, ssl: { ca: readSettingFile(certs('mariadb').ca, 'db.tlsCaPath'), rejectUnauthorized: true, verifyIdentity: true } });
  const [rows] = await conn.query("SHOW SESSION STATUS LIKE 'Ssl_version'");
  await conn.end();
  assert.match((rows as Array<{ Value: string }>)[0]?.Value ?? '', /^TLSv1\.[23]$/);

  const options = temporalConnectionOptions(worker);
  const tryTemporal = async (opts: Parameters<typeof Connection.connect>[0]) => {
    const connection = await Connection.connect({ ...opts, connectTimeout: 10_000 });
    try {
      await connection.workflowService.getSystemInfo({});
    } finally {
      await connection.close();
    }
  };
  await refusedWith(tryTemporal({ address: options.address }), /./);
  const { clientCertPair: _withoutCert, ...serverOnly } = options.tls ?? {};
  await refusedWith(tryTemporal({ address: options.address, tls: serverOnly }), /./);
  await tryTemporal(options);
});

test('each Kafka user may do what its process does and nothing more', { timeout: 300_000 }, async () => {
  const topic = String(run.overrides['kafka.topic']);
  const dlq = String(run.overrides['kafka.dlqTopic']);
  const group = String(run.overrides['kafka.groupId']);
  const producer = rawKafka(run.configFor('producer'));
  const send = async (kafka: Kafka, to: string) => {
    // kafkajs refuses an idempotent producer without retries; an ACL refusal is not retried anyway.
    const p = kafka.producer({ idempotent: true, maxInFlightRequests: 1, retry: { retries: 1 } });
    await p.connect();
    try {
      await p.send({ topic: to, acks: -1, messages: [{ key: 'acl-probe', value: 'acl-probe: not a transaction (the consumer parks it in the DLQ)' }] });
    } finally {
      await p.disconnect();
    }
  };
  await send(producer, topic); // the producer writes transactions (as an idempotent producer: WRITE is enough)
  await refusedWith(send(producer, dlq), TOPIC_DENIED);
  await refusedWith(producer.admin().createTopics({ topics: [{ topic: `${topic}-unwanted` }] }).then((created) => assert.fail(`created: ${created}`)), /AUTHORIZATION_FAILED/);
  assert.match(await crashOf(producer.consumer({ groupId: group }), topic), GROUP_DENIED, 'the producer cannot consume');

  const consumer = rawKafka(run.configFor('consumer'));
  await refusedWith(send(consumer, topic), TOPIC_DENIED);
  assert.match(await crashOf(consumer.consumer({ groupId: `${group}-other` }), topic), GROUP_DENIED, 'the consumer reads only in its own group');

  const api = rawKafka(run.configFor('api'));
  assert.match(await crashOf(api.consumer({ groupId: group }), topic), GROUP_DENIED, 'the api cannot consume');
  await refusedWith(send(api, dlq), TOPIC_DENIED);

  // verify holds WRITE on no topic, so it cannot even get a producer id (KIP-679: that needs WRITE somewhere).
  const verifier = rawKafka(run.configFor('verify'));
  await refusedWith(send(verifier, topic), /CLUSTER_AUTHORIZATION_FAILED/);
  await refusedWith(send(verifier, dlq), /CLUSTER_AUTHORIZATION_FAILED/);
  assert.match(await crashOf(verifier.consumer({ groupId: group }), topic), GROUP_DENIED, "verify cannot join the pipeline's group");
});

/** Runs `ledgerflow <command>` as `role` with `changes`; it must exit non-zero with one `ledgerflow:` line and no stack trace. */
async function failsAtStart(command: string, role: Parameters<SecureRun['envFor']>[0], changes: Record<string, string | boolean>, code: string, names: RegExp): Promise<void> {
  const child = spawnLedgerflow(command, run.envFor(role, changes));
  const startedMs = Date.now();
  const timer = setTimeout(() => child.kill('SIGKILL'), CHILD_TIMEOUT_MS);
  const { code: exit, signal } = await exited(child);
  clearTimeout(timer);
  const lines = child.output.join('').split('\n');
  const errors = lines.filter((l) => l.startsWith('ledgerflow: '));
  assert.equal(exit, 1, `${command} as ${role} with ${JSON.stringify(changes)} exits 1 (got ${exit ?? signal} after ${Date.now() - startedMs} ms):\n${lines.slice(-20).join('\n')}`);
  assert.equal(errors.length, 1, `one error line:\n${lines.slice(-20).join('\n')}`);
  assert.ok(!lines.some((l) => /^\s+at /.test(l)), `no stack trace:\n${lines.slice(-20).join('\n')}`);
  assert.match(errors[0] as string, new RegExp(`^ledgerflow: ${code}: `));
  assert.match(errors[0] as string, names);
}

const PRODUCED_BEFORE = 300;

test('wrong credentials stop each process at start with one line naming the fix, and lose nothing', { timeout: 900_000 }, async () => {
  const produced = await (await startProducer(run.configFor('producer'), { ratePerSec: 0, count: PRODUCED_BEFORE, accounts: 50, seed: 7, malformedRatio: 0 }, log)).done;
  assert.equal(produced.sent, PRODUCED_BEFORE);
  // Each service's certificate checked against another service's CA: a real CA, just not the signer.
  const otherCa = { kafka: certs('mariadb').ca, mariadb: certs('kafka').ca, temporal: certs('kafka').ca };

  await failsAtStart('consume', 'consumer', { 'kafka.saslPassword': 'not-the-password' }, 'LF_KAFKA_AUTH', /ledgerflow-consumer.*LF_KAFKA_SASL_PASSWORD/);
  await failsAtStart('consume', 'consumer', { 'kafka.sslCaPath': otherCa.kafka }, 'LF_KAFKA_TLS', /not trust.*LF_KAFKA_SSL_CA_PATH/);
  await failsAtStart('consume', 'consumer', { 'kafka.ssl': false, 'kafka.sslCaPath': '', 'kafka.saslMechanism': '' }, 'LF_KAFKA_TLS', /LF_KAFKA_SSL.*LF_KAFKA_SASL_MECHANISM/);
  await failsAtStart('work', 'worker', { 'db.tls': false, 'db.tlsCaPath': '' }, 'LF_DB_AUTH', /plaintext.*LF_DB_TLS=true/);
  await failsAtStart('work', 'worker', { 'db.tlsCaPath': otherCa.mariadb }, 'LF_DB_TLS', /not trust.*LF_DB_TLS_CA_PATH/);
  await failsAtStart('work', 'worker', { 'temporal.tlsCaPath': otherCa.temporal }, 'LF_TEMPORAL_TLS', /not trust.*LF_TEMPORAL_TLS_CA_PATH/);
  await failsAtStart('work', 'worker', { 'temporal.tlsCertPath': '', 'temporal.tlsKeyPath': '' }, 'LF_TEMPORAL_TLS', /requires a client certificate.*LF_TEMPORAL_TLS_CERT_PATH/);
  const kafkaClient = certs('kafka').client;
  await failsAtStart('work', 'worker', { 'temporal.tlsCertPath': kafkaClient.cert, 'temporal.tlsKeyPath': kafkaClient.key }, 'LF_TEMPORAL_TLS', /does not trust the client certificate.*LF_TEMPORAL_TLS_CERT_PATH/);
  const noTls = { 'temporal.tls': false, 'temporal.tlsCaPath': '', 'temporal.tlsServerName': '', 'temporal.tlsCertPath': '', 'temporal.tlsKeyPath': '' };
  await failsAtStart('consume', 'consumer', noTls, 'LF_TEMPORAL_TLS', /speaks TLS.*LF_TEMPORAL_TLS=true/);
  await failsAtStart('verify', 'producer', {}, 'LF_KAFKA_AUTH', /ledgerflow-producer.*group .*READ.*DESCRIBE/);

  // Nothing was consumed or lost: the events wait in Kafka, the group has committed nothing.
  const admin = createKafka(run.configFor('admin'), 'secure-test').admin();
  await admin.connect();
  try {
    const highs = await admin.fetchTopicOffsets(String(run.overrides['kafka.topic']));
    assert.equal(highs.reduce((sum, h) => sum + Number(h.high), 0), PRODUCED_BEFORE + 1, 'the events and the ACL probe are in the topic');
    const [committed] = await admin.fetchOffsets({ groupId: String(run.overrides['kafka.groupId']), topics: [String(run.overrides['kafka.topic'])] });
    assert.ok((committed?.partitions ?? []).every((p) => p.offset === '-1'), 'no offset committed');
  } finally {
    await admin.disconnect();
  }
});

test('the pipeline runs end to end on SASL_SSL + SCRAM-SHA-512 + ACLs, TLS MariaDB and mTLS Temporal; verify is clean', { timeout: 900_000 }, async () => {
  let worker: WorkerHandle | undefined;
  let consumer: ConsumerHandle | undefined;
  let api: ApiHandle | undefined;
  try {
    worker = await startWorker(run.configFor('worker'), log);
    consumer = await startConsumer(run.configFor('consumer'), log);
    // The api lets no one in without a credential (decision 018): this run's own key set.
    const keys = createTestKeys([{ id: 'secure-client', scopes: ['ingest', 'read'] }]);
    const auth = bearer(keys.tokens['secure-client'] as string);
    api = await startApi(run.configFor('api', { 'api.keysFile': keys.file }), log);
    const produced = await (await startProducer(run.configFor('producer'), { ratePerSec: 0, count: 2_000, accounts: 200, seed: 11, malformedRatio: 0.02 }, log)).done;
    assert.ok(produced.malformed > 0, 'some malformed events exercise the DLQ write');

    const baseUrl = `http://127.0.0.1:${api.port}`;
    const ingest = await fetch(`${baseUrl}/transactions`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json', 'idempotency-key': `secure-${run.runId}` },
      body: JSON.stringify({ account: 'secure-alice', type: 'credit', amountMinor: '1250', currency: 'EUR', occurredAt: new Date().toISOString() }),
    });
    assert.equal(ingest.status, 202, await ingest.clone().text());
    const [id] = ((await ingest.json()) as { ids: string[] }).ids;

    const report = await verify(run.configFor('verify'), { waitMs: 600_000 }, log);
    assert.equal(report.lag, 0, 'the consumer drained and committed');
    assert.equal(report.produced, PRODUCED_BEFORE + 1 + produced.sent + 1, 'earlier events, the ACL probe, this run and the HTTP ingest');
    assert.equal(report.missing, 0, `missing: ${report.examples.missing.join(', ')}`);
    assert.equal(report.duplicated, 0);
    assert.equal(report.balanceMismatches, 0, report.examples.balanceMismatches.join('; '));
    assert.equal(report.dlqFound, produced.malformed + 1, 'every malformed event and the ACL probe are in the DLQ');
    assert.equal(report.ok, true);

    const read = await fetch(`${baseUrl}/transactions/${id}`, { headers: auth });
    assert.equal(read.status, 200, 'the api reads the ingested transaction over TLS');
    assert.equal(((await read.json()) as { amountMinor: string }).amountMinor, '1250');
    // The live page reads the group's lag and the DLQ's size as the api's Kafka user (DESCRIBE only).
    const dlqSize = String(produced.malformed + 1);
    const refused = (s: LiveSnapshot) => ['lag', 'dlq'].some((k) => s.errors[k] !== undefined && s.errors[k] !== 'no answer yet');
    const live = await liveSnapshot(baseUrl, auth, (s) => (s.dlq?.count === dlqSize && s.lag !== null) || refused(s));
    assert.equal(live.errors.lag ?? live.errors.dlq, undefined, 'the Kafka sources of the live page answer');
    assert.equal(live.dlq?.count, dlqSize);
    assert.equal((live.lag as { total?: string } | null)?.total, '0', 'lag read from the committed offsets');
  } finally {
    await api?.stop();
    await consumer?.stop();
    await worker?.stop();
  }
});

interface LiveSnapshot {
  lag: unknown;
  dlq: { count: string } | null;
  errors: Record<string, string>;
}

/** The first live-page snapshot that satisfies `until` (the feed refreshes its Kafka fields every few seconds). */
async function liveSnapshot(baseUrl: string, headers: Record<string, string>, until: (s: LiveSnapshot) => boolean): Promise<LiveSnapshot> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), 60_000);
  try {
    const res = await fetch(`${baseUrl}/events`, { headers, signal: controller.signal });
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    let text = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) throw new Error('the live feed ended');
      text += Buffer.from(value).toString('utf8');
      const frames = text.split('\n\n');
      text = frames.pop() ?? '';
      for (const frame of frames) {
        const data = /^event: summary\ndata: (.*)$/m.exec(frame)?.[1];
        if (!data) continue;
        const snapshot = JSON.parse(data) as LiveSnapshot;
        if (until(snapshot)) return snapshot;
      }
    }
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
}
