import fs from 'node:fs';
import path from 'node:path';
import { ensureDir, STACK_HOST } from './layout';
import { requireBinary, runStep } from './install';
import type { StackContext } from './service';

/**
 * Certificates of the secure local stack, made with the openssl CLI (no hand-rolled crypto): one
 * CA per service, so a client given another service's CA is refused like any untrusted one, and
 * leaf certificates valid for 127.0.0.1 and localhost. Keys are mode 0600 in the secrets dir;
 * everything is made once and kept (clients may hold the CA already).
 */

/** The services that get a CA of their own. */
export type CertAuthority = 'kafka' | 'mariadb' | 'temporal';

export interface CertPair {
  cert: string;
  key: string;
}

export interface ServiceCerts {
  /** The CA certificate clients trust. */
  ca: string;
  server: CertPair;
  /** For mTLS (Temporal): a client certificate signed by the same CA. */
  client: CertPair;
}

const CA_DAYS = 3650;
/** Within the 825-day limit clients apply to server certificates. */
const LEAF_DAYS = 825;
const KEY_ALGORITHM = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'];

export function serviceCerts(ctx: StackContext, authority: CertAuthority): ServiceCerts {
  const dir = path.join(ctx.layout.secrets, 'tls', authority);
  const pair = (name: string): CertPair => ({ cert: path.join(dir, `${name}.crt`), key: path.join(dir, `${name}.key`) });
  return { ca: path.join(dir, 'ca.crt'), server: pair('server'), client: pair('client') };
}

/** Makes the CA, the server and the client certificate of one service, each only if missing. */
export async function ensureServiceCerts(ctx: StackContext, authority: CertAuthority): Promise<ServiceCerts> {
  const certs = serviceCerts(ctx, authority);
  const dir = ensureDir(path.dirname(certs.ca), 0o700);
  const openssl = requireBinary('openssl', 'making the secure stack certificates');
  const logFile = ctx.layout.installLogFile('certs');
  const caKey = path.join(dir, 'ca.key');
  const step = (what: string, args: string[]) => runStep(openssl, args, { step: `openssl: ${authority} ${what}`, logFile, cwd: dir });
  if (!fs.existsSync(certs.ca) || !fs.existsSync(caKey)) {
    ctx.log(`stack: ${authority}: making a local CA and certificates in ${dir}`);
    await step('CA', [
      'req', '-x509', ...KEY_ALGORITHM, '-nodes', '-keyout', caKey, '-out', certs.ca, '-days', String(CA_DAYS),
      '-subj', `/O=Ledgerflow local stack/CN=Ledgerflow ${authority} CA`,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
    ]);
    // A new CA invalidates every certificate the old one signed.
    for (const p of [certs.server, certs.client]) for (const f of [p.cert, p.key]) fs.rmSync(f, { force: true });
  }
  const leaf = async (pair: CertPair, commonName: string, usage: string) => {
    if (fs.existsSync(pair.cert) && fs.existsSync(pair.key)) return;
    await step(commonName, [
      'req', '-x509', ...KEY_ALGORITHM, '-nodes', '-keyout', pair.key, '-out', pair.cert, '-days', String(LEAF_DAYS),
      '-CA', certs.ca, '-CAkey', caKey, '-subj', `/O=Ledgerflow local stack/CN=${commonName}`,
      '-addext', `subjectAltName=IP:${STACK_HOST},DNS:localhost`, '-addext', `extendedKeyUsage=${usage}`,
      '-addext', 'basicConstraints=critical,CA:FALSE', '-addext', 'keyUsage=critical,digitalSignature',
    ]);
  };
  // The server certificate also serves as a client one: Kafka's broker presents it to its own controller listener.
  await leaf(certs.server, `ledgerflow-${authority}`, 'serverAuth,clientAuth');
  await leaf(certs.client, `ledgerflow-${authority}-client`, 'clientAuth');
  for (const f of [caKey, certs.server.key, certs.client.key]) fs.chmodSync(f, 0o600);
  return certs;
}
