/**
 * Node's (OpenSSL's) codes for a peer certificate that was refused, each with what it means to
 * an operator. Shared by the Kafka, database and Temporal clients' start-up errors; pure.
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
