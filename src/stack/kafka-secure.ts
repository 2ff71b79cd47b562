import fs from 'node:fs';
import path from 'node:path';
import type { Admin } from 'kafkajs';
import { LedgerflowError } from '../domain/errors';
import { grantPipelineAcls } from '../kafka/acls';
import { createKafka, ensureTopics } from '../kafka/client';
import { ensureServiceCerts, serviceCerts } from './certs';
import { brokerProperties, brokerSpec, kafkaPaths, kafkaService, listsTopics, prepareKafkaNode } from './kafka';
import { STACK_HOST, writeFileIfChanged } from './layout';
import { readOrCreateSecret } from './secrets';
import { KAFKA_PRINCIPALS, kafkaPasswordFile, kafkaUserName, secureClientConfig, type KafkaPrincipal } from './secure-clients';
import { ServiceDefinition, StackContext } from './service';

/**
 * Kafka of the secure profile: one SASL_SSL listener (SCRAM-SHA-512 over TLS with a local CA) for
 * every client, the KRaft controller listener on TLS with client certificates, and the
 * StandardAuthorizer denying whatever no ACL allows. Users are created with Kafka's own
 * `kafka-storage format --add-scram`; the pipeline's ACLs come from src/kafka/acls.ts.
 */

/** The broker's certificate CN, which its own controller connections present (see ssl.principal.mapping.rules). */
const BROKER_CERT_PRINCIPAL = 'ledgerflow-kafka';

function secureOverrides(ctx: StackContext, keystore: string, truststore: string): Record<string, string | boolean> {
  const { kafka: port, kafkaController } = ctx.ports;
  const brokerPassword = readOrCreateSecret(kafkaPasswordFile(ctx, 'broker'));
  return {
    listeners: `SASL_SSL://${STACK_HOST}:${port},CONTROLLER://${STACK_HOST}:${kafkaController}`,
    'advertised.listeners': `SASL_SSL://${STACK_HOST}:${port}`,
    'listener.security.protocol.map': 'SASL_SSL:SASL_SSL,CONTROLLER:SSL',
    'inter.broker.listener.name': 'SASL_SSL',
    'sasl.enabled.mechanisms': 'SCRAM-SHA-512',
    'sasl.mechanism.inter.broker.protocol': 'SCRAM-SHA-512',
    'listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config':
      `org.apache.kafka.common.security.scram.ScramLoginModule required username="${kafkaUserName('broker')}" password="${brokerPassword}";`,
    'ssl.keystore.type': 'PEM',
    'ssl.keystore.location': keystore,
    'ssl.truststore.type': 'PEM',
    'ssl.truststore.location': truststore,
    // Only a holder of a certificate from the stack's Kafka CA may reach the controller: the broker.
    'listener.name.controller.ssl.client.auth': 'required',
    'ssl.principal.mapping.rules': 'RULE:^CN=([^,]+),.*$/$1/,DEFAULT',
    'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
    'allow.everyone.if.no.acl.found': false,
    'super.users': [`User:${kafkaUserName('admin')}`, `User:${kafkaUserName('broker')}`, `User:${BROKER_CERT_PRINCIPAL}`].join(';'),
  };
}

async function prepare(ctx: StackContext): Promise<void> {
  const certs = await ensureServiceCerts(ctx, 'kafka');
  // Kafka's PEM keystore is one file: the private key, then the certificate chain.
  const keystore = path.join(path.dirname(certs.ca), 'broker-keystore.pem');
  writeFileIfChanged(keystore, fs.readFileSync(certs.server.key, 'utf8') + fs.readFileSync(certs.server.cert, 'utf8'), 0o600);
  const users = KAFKA_PRINCIPALS.flatMap((principal) => [
    '--add-scram',
    `SCRAM-SHA-512=[name=${kafkaUserName(principal)},password=${readOrCreateSecret(kafkaPasswordFile(ctx, principal))}]`,
  ]);
  // server.properties holds the broker's own SCRAM password: private like the secrets.
  await prepareKafkaNode(ctx, brokerProperties(brokerSpec(ctx), secureOverrides(ctx, keystore, certs.ca)), { propertiesMode: 0o600, secretFormatArgs: users });
}

/** A client of the secure broker as `principal`, built by the pipeline's own client code (SASL_SSL, the stack's CA). */
function adminClient(ctx: StackContext, principal: KafkaPrincipal = 'admin'): Admin {
  const base = secureClientConfig(ctx, 'admin');
  const config = { ...base, kafka: { ...base.kafka, saslUsername: kafkaUserName(principal), saslPasswordFile: kafkaPasswordFile(ctx, principal) } };
  return createKafka(config, 'stack').admin({ retry: { retries: 0 } });
}

/** Answering = the admin logs in over SASL_SSL and lists topics. */
async function probe(ctx: StackContext, timeoutMs: number): Promise<boolean> {
  // No admin password yet: this stack was never started here, so nothing can answer as ours.
  if (!fs.existsSync(kafkaPasswordFile(ctx, 'admin'))) return false;
  return listsTopics(adminClient(ctx), timeoutMs);
}

/**
 * Every user logs in with the password in its file (a file regenerated after the storage was
 * formatted would leave clients locked out with no hint), then the default topics and the
 * pipeline's ACLs for their names are in place.
 */
async function afterReady(ctx: StackContext): Promise<void> {
  for (const principal of KAFKA_PRINCIPALS.filter((p) => p !== 'broker')) {
    const client = adminClient(ctx, principal);
    try {
      await client.connect();
    } catch (err) {
      throw new LedgerflowError(
        'LF_STACK',
        `kafka: user ${kafkaUserName(principal)} cannot log in with the password in ${kafkaPasswordFile(ctx, principal)} (${(err as Error).message}); ` +
          `the broker's storage predates that file: stop the secure stack and delete ${kafkaPaths(ctx).data} to format it again`,
      );
    } finally {
      await client.disconnect().catch(() => undefined);
    }
  }
  const admin = adminClient(ctx);
  await admin.connect();
  try {
    await ensureTopics(secureClientConfig(ctx, 'admin'), admin);
    const { topic, dlqTopic, groupId } = ctx.config.kafka;
    await grantPipelineAcls(admin, { topic, dlqTopic, groupId }, kafkaUserName);
  } finally {
    await admin.disconnect();
  }
}

export function secureKafkaService(ctx: StackContext): ServiceDefinition {
  const base = kafkaService(ctx);
  return {
    ...base,
    systemPackages: [...base.systemPackages, { binary: 'openssl', debianPackage: 'openssl' }],
    prepare,
    probe,
    afterReady,
    markers: (c) => [...base.markers(c), serviceCerts(c, 'kafka').ca],
  };
}
