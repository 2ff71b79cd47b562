import net from 'node:net';
import tls from 'node:tls';

/**
 * TLS failures as an operator reads them, for the Kafka, database and Temporal clients' start-up
 * errors (a plumbing room like kafka/ and temporal/, docs/decisions/003). Node's (OpenSSL's) codes
 * for a peer certificate this client refused, each with what it means:
 */
const CERTIFICATE_REFUSALS: Record<string, string> = {
  SELF_SIGNED_CERT_IN_CHAIN: 'signed by a CA this client does not trust',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'self-signed and not trusted',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'signed by a CA this client does not trust',
  UNABLE_TO_GET_ISSUER_CERT: 'signed by a CA this client does not trust',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'signed by a CA this client does not trust',
  CERT_UNTRUSTED: 'not trusted',
  CERT_HAS_EXPIRED: 'expired',
  CERT_NOT_YET_VALID: 'not valid yet',
  ERR_TLS_CERT_ALTNAME_INVALID: 'issued for another host name',
  CERT_SIGNATURE_FAILURE: 'its signature does not verify',
};

/** "signed by a CA this client does not trust (SELF_SIGNED_CERT_IN_CHAIN)", or undefined when err is no certificate refusal. */
export function describeTlsFailure(err: unknown): string | undefined {
  const e = err as { code?: unknown; message?: unknown } | undefined;
  if (!e || typeof e !== 'object') return undefined;
  if (typeof e.code === 'string' && CERTIFICATE_REFUSALS[e.code]) return `${CERTIFICATE_REFUSALS[e.code]} (${e.code})`;
  // Some clients keep only the text: gRPC's transport errors, mysql2's wrapped handshake errors.
  const text = typeof e.message === 'string' ? e.message : '';
  for (const [code, meaning] of Object.entries(CERTIFICATE_REFUSALS)) if (text.includes(code)) return `${meaning} (${code})`;
  // Node's texts for the codes above, as clients that keep only the text report them.
  if (/self[- ]signed certificate|unable to verify the first certificate|unable to get local issuer certificate/i.test(text)) {
    return `signed by a CA this client does not trust: ${text.slice(0, 120)}`;
  }
  if (/certificate verify failed|UnknownIssuer|invalid peer certificate|certificate has expired|does not match certificate/i.test(text)) {
    return `not trusted: ${text.slice(0, 160)}`;
  }
  return undefined;
}

/** OpenSSL alerts with which a server refuses the client's certificate (or its absence). */
const CLIENT_CERTIFICATE_ALERTS: Record<string, string> = {
  ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED: 'the server requires a client certificate and got none',
  ERR_SSL_TLSV1_ALERT_UNKNOWN_CA: "the server does not trust the client certificate's CA",
  ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE: 'the server refused the client certificate',
  ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN: 'the server refused the client certificate',
  ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED: 'the client certificate has expired',
};

export type HandshakeRefusal =
  | { side: 'server-certificate'; why: string }
  | { side: 'client-certificate'; why: string }
  | { side: 'not-tls'; why: string };

const HANDSHAKE_TIMEOUT_MS = 5_000;

/**
 * One TLS handshake with host:port as a client configured with `options` would make it, before the
 * real client connects: some clients hide why a handshake failed (Temporal's native connection says
 * "connection closed") or retry a refused certificate like a network error for a long time (kafkajs).
 * With `firstBytes`, they are sent and the first answer awaited: a TLS 1.3 server refuses a client
 * certificate only after the handshake completed. Anything but a refusal (nothing listening, a
 * timeout) is undefined: the client's own retries handle those.
 */
export function tlsHandshakeRefusal(host: string, port: number, options: tls.ConnectionOptions, firstBytes?: Buffer): Promise<HandshakeRefusal | undefined> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host, port, ...(net.isIP(host) ? {} : { servername: host }), ...options });
    const done = (refusal: HandshakeRefusal | undefined) => {
      socket.destroy();
      resolve(refusal);
    };
    socket.setTimeout(HANDSHAKE_TIMEOUT_MS, () => done(undefined));
    socket.once('secureConnect', () => (firstBytes ? socket.write(firstBytes) : done(undefined)));
    socket.once('data', () => done(undefined));
    socket.once('error', (err: NodeJS.ErrnoException) => {
      const serverSide = describeTlsFailure(err);
      if (serverSide) return done({ side: 'server-certificate', why: serverSide });
      const clientSide = err.code ? CLIENT_CERTIFICATE_ALERTS[err.code] : undefined;
      if (clientSide) return done({ side: 'client-certificate', why: `${clientSide} (${err.code})` });
      if (/wrong version number|packet length too long/i.test(err.message)) return done({ side: 'not-tls', why: 'the server does not speak TLS on this port' });
      return done(undefined);
    });
  });
}

/**
 * Whether host:port answers a TLS handshake at all (whoever's certificate): tells a client with TLS
 * off that the server wants it, where its own error would say only "broken pipe". Never used to
 * trust anything: the socket is closed once the server has shown it speaks TLS.
 */
export function speaksTls(host: string, port: number, alpn: string[] = []): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host, port, rejectUnauthorized: false, ALPNProtocols: alpn, ...(net.isIP(host) ? {} : { servername: host }) });
    const done = (yes: boolean) => {
      socket.destroy();
      resolve(yes);
    };
    socket.setTimeout(HANDSHAKE_TIMEOUT_MS, () => done(false));
    socket.once('secureConnect', () => done(true));
    socket.once('error', (err: NodeJS.ErrnoException) => done(err.code !== undefined && err.code in CLIENT_CERTIFICATE_ALERTS));
  });
}
