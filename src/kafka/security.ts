import type { SASLOptions } from 'kafkajs';
import type { ConnectionOptions } from 'node:tls';
import { kafkaSaslPassword, readSettingFile, type Config } from '../config';
import { LedgerflowError } from '../domain/errors';
import { describeTlsFailure, tlsHandshakeRefusal } from '../net/tls';

/**
 * How every Kafka client of the pipeline authenticates and encrypts: TLS with the broker's
 * certificate and host name verified (against kafka.sslCaPath when set), SASL as configured.
 * Choices and the ACLs each process needs: docs/security.md.
 */
export function kafkaTls(config: Config): ConnectionOptions | boolean {
  const { ssl, sslCaPath } = config.kafka;
  if (!ssl && !sslCaPath) return false;
  // rejectUnauthorized is Node's default; spelled out because it is the point of the setting.
  return sslCaPath ? { ca: [readSettingFile(sslCaPath, 'kafka.sslCaPath')], rejectUnauthorized: true } : true;
}

export function kafkaSasl(config: Config): SASLOptions | undefined {
  const { saslMechanism, saslUsername } = config.kafka;
  if (saslMechanism === '') return undefined;
  return { mechanism: saslMechanism, username: saslUsername, password: kafkaSaslPassword(config) } as SASLOptions;
}

/** Kafka error types (kafkajs names and protocol error types) that mean "not allowed", not "try later". */
const AUTHORIZATION_TYPES = new Set(['TOPIC_AUTHORIZATION_FAILED', 'GROUP_AUTHORIZATION_FAILED', 'CLUSTER_AUTHORIZATION_FAILED', 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED']);

interface KafkaErrorLike {
  name?: string;
  type?: string;
  message?: string;
  code?: string;
  cause?: unknown;
  originalError?: unknown;
}

/** The error, its causes and the parts of an aggregate (kafkajs wraps protocol errors up to three deep). */
function causes(err: unknown, out: KafkaErrorLike[] = []): KafkaErrorLike[] {
  const e = err as (KafkaErrorLike & { errors?: unknown[] }) | undefined;
  if (!e || typeof e !== 'object' || out.length >= 16 || out.includes(e)) return out;
  out.push(e);
  for (const part of Array.isArray(e.errors) ? e.errors : []) causes(part, out);
  return causes(e.cause ?? e.originalError, out);
}

function certificateRefused(config: Config, why: string, doing: string): LedgerflowError {
  return new LedgerflowError(
    'LF_KAFKA_TLS',
    `Kafka at ${config.kafka.brokers.join(',')}: the broker's TLS certificate was refused (${why}) while ${doing}: ` +
      'set kafka.sslCaPath (LF_KAFKA_SSL_CA_PATH) to the CA that signed it, and reach the broker by a name its certificate holds',
    { setting: 'kafka.sslCaPath' },
  );
}

/**
 * One TLS handshake with the first bootstrap broker, before any Kafka client connects: kafkajs
 * retries a refused certificate like a network error (for ~40 s), this says what is wrong at once.
 */
export async function checkBrokerCertificate(config: Config): Promise<void> {
  const options = kafkaTls(config);
  const match = /^(.*):(\d+)$/.exec(config.kafka.brokers[0] ?? '');
  if (!options || !match) return;
  const host = (match[1] as string).replace(/^\[(.*)\]$/, '$1');
  const refusal = await tlsHandshakeRefusal(host, Number(match[2]), options === true ? {} : options);
  if (refusal?.side === 'server-certificate') throw certificateRefused(config, refusal.why, 'connecting');
  if (refusal?.side === 'not-tls') {
    throw new LedgerflowError('LF_KAFKA_TLS', `Kafka at ${config.kafka.brokers.join(',')}: ${refusal.why}: turn kafka.ssl (LF_KAFKA_SSL) off, or use the broker's TLS listener`, { setting: 'kafka.ssl' });
  }
}

/** True when Kafka refused an operation for lack of rights (an ACL), as opposed to a failure. */
export function isAuthorizationRefusal(err: unknown): boolean {
  return causes(err).some((e) => e.type !== undefined && AUTHORIZATION_TYPES.has(e.type));
}

/**
 * Turns the first failure of a Kafka client at start into one line that names what to fix: the
 * SASL login, the broker's certificate, a missing ACL, or a security setting that does not match
 * the listener. Anything else is returned as it is (a broker that is down is retried by callers).
 */
export function explainKafkaStartError(config: Config, err: unknown, doing: string): unknown {
  const chain = causes(err);
  const brokers = config.kafka.brokers.join(',');
  const user = config.kafka.saslUsername;
  if (chain.some((e) => e.name === 'KafkaJSSASLAuthenticationError')) {
    return new LedgerflowError(
      'LF_KAFKA_AUTH',
      `Kafka at ${brokers} refused the SASL ${config.kafka.saslMechanism.toUpperCase()} login of user "${user}" while ${doing}: ` +
        'check kafka.saslUsername (LF_KAFKA_SASL_USERNAME) and kafka.saslPassword (LF_KAFKA_SASL_PASSWORD) or kafka.saslPasswordFile (LF_KAFKA_SASL_PASSWORD_FILE)',
      { setting: 'kafka.saslPassword', user },
    );
  }
  const tls = chain.map((e) => describeTlsFailure(e)).find((d) => d !== undefined);
  if (tls) return certificateRefused(config, tls, doing);
  const denied = chain.find((e) => e.type !== undefined && AUTHORIZATION_TYPES.has(e.type));
  if (denied) {
    return new LedgerflowError(
      'LF_KAFKA_AUTH',
      `Kafka user "${user || 'ANONYMOUS'}" is not allowed to do this (${denied.type}) while ${doing}: ` +
        'grant it the ACLs of its role (docs/security.md), or create the topics with an admin principal',
      { type: denied.type, user },
    );
  }
  if (chain.some((e) => e.name === 'KafkaJSGroupCoordinatorNotFound')) {
    // kafkajs drops the broker's reason here; a missing group ACL is the lasting one (the broker's
    // own "not available" is retried before this).
    return new LedgerflowError(
      'LF_KAFKA_AUTH',
      `Kafka user "${user || 'ANONYMOUS'}" found no coordinator for group "${config.kafka.groupId}" while ${doing}: ` +
        'grant it READ (to consume) or DESCRIBE (to read offsets) on that group (docs/security.md); if it has them, the coordinator is down: retry',
      { group: config.kafka.groupId, user },
    );
  }
  const closed = chain.some((e) => e.name === 'KafkaJSConnectionClosedError' || /closed connection|connection closed|disconnected before secure TLS|wrong version number|packet length too long/i.test(`${e.message ?? ''} ${e.code ?? ''}`));
  if (closed) {
    const how = config.kafka.ssl ? 'TLS' : 'plaintext';
    return new LedgerflowError(
      'LF_KAFKA_TLS',
      `Kafka at ${brokers} closed the connection during the ${how} handshake while ${doing}: ` +
        'kafka.ssl (LF_KAFKA_SSL) and kafka.saslMechanism (LF_KAFKA_SASL_MECHANISM) must match the listener (SASL_SSL needs both)',
      { setting: 'kafka.ssl' },
    );
  }
  return err;
}
