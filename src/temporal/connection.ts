import { readSettingFile, type Config } from '../config';
import { LedgerflowError } from '../domain/errors';
import { describeTlsFailure, speaksTls, tlsHandshakeRefusal } from '../net/tls';

/**
 * Connection options shared by the client (consumer, verify) and the worker's NativeConnection.
 * TLS is on with a CA, a client certificate (mTLS) or an API key; the server's certificate is
 * always verified (temporal.tlsCaPath, else the system's CAs). docs/security.md.
 */
export function temporalConnectionOptions(config: Config) {
  const { temporal } = config;
  if (Boolean(temporal.tlsCertPath) !== Boolean(temporal.tlsKeyPath)) {
    throw new LedgerflowError('LF_CONFIG', 'temporal.tlsCertPath (LF_TEMPORAL_TLS_CERT_PATH) and temporal.tlsKeyPath (LF_TEMPORAL_TLS_KEY_PATH) go together: set both for mTLS, or neither', 'temporal.tlsCertPath');
  }
  const useTls = temporal.tls || Boolean(temporal.tlsCertPath || temporal.tlsCaPath);
  const tls = useTls
    ? {
        ...(temporal.tlsCaPath ? { serverRootCACertificate: readSettingFile(temporal.tlsCaPath, 'temporal.tlsCaPath') } : {}),
        ...(temporal.tlsServerName ? { serverNameOverride: temporal.tlsServerName } : {}),
        ...(temporal.tlsCertPath
          ? { clientCertPair: { crt: readSettingFile(temporal.tlsCertPath, 'temporal.tlsCertPath'), key: readSettingFile(temporal.tlsKeyPath, 'temporal.tlsKeyPath') } }
          : {}),
      }
    : undefined;
  return {
    address: temporal.address,
    // An API key always travels over TLS (Temporal Cloud); the SDK turns TLS on for it too.
    ...(tls ? { tls } : {}),
    ...(temporal.apiKey ? { apiKey: temporal.apiKey } : {}),
  };
}

/** The HTTP/2 client preface and an empty SETTINGS frame: what a gRPC client sends first. */
const HTTP2_PREFACE = Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0])]);

/**
 * One TLS handshake with the frontend as the SDK would make it, before connecting: Temporal's
 * native connection (the worker's) reports any refused handshake as "connection closed" or "broken
 * pipe", without saying whose certificate was refused. With TLS off it checks the frontend does
 * not want TLS (a plaintext port answers no handshake).
 */
export async function checkTemporalTls(config: Config): Promise<void> {
  const { temporal } = config;
  const options = temporalConnectionOptions(config).tls;
  const match = /^(.*):(\d+)$/.exec(temporal.address);
  if (!match) return;
  const host = (match[1] as string).replace(/^\[(.*)\]$/, '$1');
  if (!options) {
    if (await speaksTls(host, Number(match[2]), ['h2'])) {
      throw new LedgerflowError('LF_TEMPORAL_TLS', `Temporal at ${temporal.address} speaks TLS and temporal.tls is off: set temporal.tls (LF_TEMPORAL_TLS=true), temporal.tlsCaPath (LF_TEMPORAL_TLS_CA_PATH) for a private CA, and temporal.tlsCertPath/temporal.tlsKeyPath if it requires client certificates`, { setting: 'temporal.tls' });
    }
    return;
  }
  const refusal = await tlsHandshakeRefusal(host, Number(match[2]), {
    ALPNProtocols: ['h2'],
    ...(options.serverRootCACertificate ? { ca: options.serverRootCACertificate } : {}),
    ...(options.serverNameOverride ? { servername: options.serverNameOverride } : {}),
    ...(options.clientCertPair ? { cert: options.clientCertPair.crt, key: options.clientCertPair.key } : {}),
  }, HTTP2_PREFACE);
  if (!refusal) return;
  const where = `Temporal at ${temporal.address}`;
  const fix = {
    'server-certificate': 'set temporal.tlsCaPath (LF_TEMPORAL_TLS_CA_PATH) to the CA that signed it, and temporal.tlsServerName (LF_TEMPORAL_TLS_SERVER_NAME) to a name it holds',
    'client-certificate': 'set temporal.tlsCertPath (LF_TEMPORAL_TLS_CERT_PATH) and temporal.tlsKeyPath (LF_TEMPORAL_TLS_KEY_PATH) to a client certificate signed by a CA the frontend trusts',
    'not-tls': 'turn temporal.tls (LF_TEMPORAL_TLS) off, or point temporal.address at the TLS frontend',
  }[refusal.side];
  const what = refusal.side === 'server-certificate' ? `the frontend's TLS certificate was refused (${refusal.why})` : refusal.why;
  throw new LedgerflowError('LF_TEMPORAL_TLS', `${where}: ${what}: ${fix}`, { setting: refusal.side === 'client-certificate' ? 'temporal.tlsCertPath' : 'temporal.tlsCaPath' });
}

/**
 * The one-line error of a first Temporal connection that failed in its TLS handshake (an
 * untrusted server certificate, a client certificate the server refused, TLS against a plaintext
 * frontend or the reverse); any other error is returned as it is.
 */
export function explainTemporalStartError(config: Config, err: unknown): unknown {
  const text = `${(err as Error)?.message ?? ''} ${String((err as { cause?: Error })?.cause?.message ?? '')}`;
  const where = `Temporal at ${config.temporal.address}`;
  const refused = describeTlsFailure(err) ?? describeTlsFailure((err as { cause?: unknown })?.cause);
  if (refused) {
    return new LedgerflowError('LF_TEMPORAL_TLS', `${where}: the frontend's TLS certificate was refused (${refused}): set temporal.tlsCaPath (LF_TEMPORAL_TLS_CA_PATH) to the CA that signed it, and temporal.tlsServerName (LF_TEMPORAL_TLS_SERVER_NAME) to a name it holds`, { setting: 'temporal.tlsCaPath' });
  }
  if (/certificate required|bad certificate|unknown ca|handshake failure|alert/i.test(text)) {
    return new LedgerflowError('LF_TEMPORAL_TLS', `${where} refused this client's TLS certificate (${text.trim().slice(0, 160)}): set temporal.tlsCertPath and temporal.tlsKeyPath to a client certificate its CA signed`, { setting: 'temporal.tlsCertPath' });
  }
  if (/wrong version number|http2 error|frame with invalid size|connection reset|tls handshake eof|InvalidContentType|corrupt message/i.test(text)) {
    const on = config.temporal.tls || Boolean(config.temporal.tlsCertPath || config.temporal.tlsCaPath);
    return new LedgerflowError('LF_TEMPORAL_TLS', `${where} did not complete a ${on ? 'TLS' : 'plaintext'} handshake (${text.trim().slice(0, 120)}): temporal.tls (LF_TEMPORAL_TLS) must match the frontend (on, with temporal.tlsCaPath, for a TLS frontend)`, { setting: 'temporal.tls' });
  }
  return err;
}
