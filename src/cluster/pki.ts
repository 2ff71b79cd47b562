import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ensureDir } from '../stack/layout';
import { requireBinary } from '../stack/install';
import { mustRun } from './exec';
import { CLUSTER_DOMAIN, ClusterLayout, NODE_NAME } from './layout';

/**
 * The node's certificates, made once with OpenSSL (never by hand): a cluster CA and a front-proxy CA
 * (the aggregation layer metrics-server needs), an etcd CA, serving certificates with the node's
 * addresses and one client certificate per component, named as Kubernetes' RBAC expects
 * (system:kube-controller-manager, system:node:<node>, …). Keys are ECDSA P-256.
 */

export type CertName =
  | 'ca' | 'front-proxy-ca' | 'etcd-ca'
  | 'etcd-server' | 'apiserver-etcd-client'
  | 'apiserver' | 'apiserver-kubelet-client' | 'front-proxy-client'
  | 'admin' | 'controller-manager' | 'scheduler' | 'kubelet' | 'kubelet-serving' | 'kube-proxy';

interface CertSpec {
  subject: string;
  ca?: 'ca' | 'front-proxy-ca' | 'etcd-ca';
  usage?: 'server' | 'client' | 'both';
  sans?: string[];
}

const VALID_DAYS = '3650';

function certSpecs(layout: ClusterLayout): Record<CertName, CertSpec> {
  const { nodeIp, apiServiceIp } = layout.addresses;
  const apiNames = ['kubernetes', 'kubernetes.default', 'kubernetes.default.svc', `kubernetes.default.svc.${CLUSTER_DOMAIN}`, 'localhost'];
  return {
    ca: { subject: '/CN=ledgerflow-cluster-ca' },
    'front-proxy-ca': { subject: '/CN=ledgerflow-front-proxy-ca' },
    'etcd-ca': { subject: '/CN=ledgerflow-etcd-ca' },
    'etcd-server': { subject: '/CN=etcd', ca: 'etcd-ca', usage: 'both', sans: ['IP:127.0.0.1', 'DNS:localhost'] },
    'apiserver-etcd-client': { subject: '/CN=kube-apiserver-etcd-client', ca: 'etcd-ca', usage: 'client' },
    apiserver: { subject: '/CN=kube-apiserver', ca: 'ca', usage: 'server', sans: [`IP:${nodeIp}`, `IP:${apiServiceIp}`, 'IP:127.0.0.1', ...apiNames.map((n) => `DNS:${n}`)] },
    'apiserver-kubelet-client': { subject: '/CN=kube-apiserver-kubelet-client', ca: 'ca', usage: 'client' },
    'front-proxy-client': { subject: '/CN=front-proxy-client', ca: 'front-proxy-ca', usage: 'client' },
    admin: { subject: '/O=system:masters/CN=kubernetes-admin', ca: 'ca', usage: 'client' },
    'controller-manager': { subject: '/CN=system:kube-controller-manager', ca: 'ca', usage: 'client' },
    scheduler: { subject: '/CN=system:kube-scheduler', ca: 'ca', usage: 'client' },
    kubelet: { subject: `/O=system:nodes/CN=system:node:${NODE_NAME}`, ca: 'ca', usage: 'client' },
    'kubelet-serving': { subject: `/CN=${NODE_NAME}`, ca: 'ca', usage: 'server', sans: [`IP:${nodeIp}`, `DNS:${NODE_NAME}`] },
    'kube-proxy': { subject: '/CN=system:kube-proxy', ca: 'ca', usage: 'client' },
  };
}

export const certFile = (layout: ClusterLayout, name: CertName) => path.join(layout.pki, `${name}.crt`);
export const keyFile = (layout: ClusterLayout, name: CertName) => path.join(layout.pki, `${name}.key`);
export const serviceAccountKey = (layout: ClusterLayout) => path.join(layout.pki, 'sa.key');
export const serviceAccountPub = (layout: ClusterLayout) => path.join(layout.pki, 'sa.pub');

/** Creates what is missing; existing keys and certificates are kept (a second `up` changes nothing). */
export async function ensurePki(layout: ClusterLayout): Promise<void> {
  const openssl = requireBinary('openssl', 'making the cluster certificates');
  ensureDir(layout.pki, 0o700);
  const specs = certSpecs(layout);
  for (const [name, spec] of Object.entries(specs) as [CertName, CertSpec][]) {
    if (fs.existsSync(certFile(layout, name))) continue;
    await newKey(openssl, keyFile(layout, name));
    if (!spec.ca) await selfSignedCa(openssl, layout, name, spec.subject);
    else await signed(openssl, layout, name, spec);
  }
  if (!fs.existsSync(serviceAccountPub(layout))) {
    await newKey(openssl, serviceAccountKey(layout));
    await mustRun(openssl, ['pkey', '-in', serviceAccountKey(layout), '-pubout', '-out', serviceAccountPub(layout)]);
  }
}

async function newKey(openssl: string, file: string): Promise<void> {
  await mustRun(openssl, ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', file]);
  fs.chmodSync(file, 0o600);
}

async function selfSignedCa(openssl: string, layout: ClusterLayout, name: CertName, subject: string): Promise<void> {
  await mustRun(openssl, [
    'req', '-x509', '-new', '-key', keyFile(layout, name), '-subj', subject, '-days', VALID_DAYS, '-sha256',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign,digitalSignature',
    '-out', certFile(layout, name),
  ]);
}

async function signed(openssl: string, layout: ClusterLayout, name: CertName, spec: CertSpec): Promise<void> {
  const csr = path.join(layout.pki, `${name}.csr`);
  const ext = path.join(layout.pki, `${name}.ext`);
  const eku = { server: 'serverAuth', client: 'clientAuth', both: 'serverAuth,clientAuth' }[spec.usage ?? 'both'];
  fs.writeFileSync(
    ext,
    [
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      `extendedKeyUsage=${eku}`,
      ...(spec.sans ? [`subjectAltName=${spec.sans.join(',')}`] : []),
      '',
    ].join('\n'),
  );
  const ca = spec.ca as CertName;
  await mustRun(openssl, ['req', '-new', '-key', keyFile(layout, name), '-subj', spec.subject, '-out', csr]);
  await mustRun(openssl, [
    'x509', '-req', '-in', csr, '-CA', certFile(layout, ca), '-CAkey', keyFile(layout, ca),
    '-set_serial', `0x${crypto.randomBytes(16).toString('hex')}`, '-days', VALID_DAYS, '-sha256', '-extfile', ext, '-out', certFile(layout, name),
  ]);
  fs.rmSync(csr, { force: true });
  fs.rmSync(ext, { force: true });
}

/** The kubeconfig context (and cluster) name of the node; skaffold.yaml's local-node profile pins it. */
export const KUBE_CONTEXT = 'ledgerflow';

/** A kubeconfig with the certificates embedded (JSON is YAML; kubectl and client-go read it). */
export function writeKubeconfig(layout: ClusterLayout, file: string, user: CertName, server: string): void {
  const b64 = (f: string) => fs.readFileSync(f).toString('base64');
  const doc = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: KUBE_CONTEXT, cluster: { server, 'certificate-authority-data': b64(certFile(layout, 'ca')) } }],
    users: [{ name: user, user: { 'client-certificate-data': b64(certFile(layout, user)), 'client-key-data': b64(keyFile(layout, user)) } }],
    contexts: [{ name: KUBE_CONTEXT, context: { cluster: KUBE_CONTEXT, user } }],
    'current-context': KUBE_CONTEXT,
  };
  ensureDir(path.dirname(file));
  fs.writeFileSync(file, `${JSON.stringify(doc, null, 2)}\n`, { mode: 0o600 });
}
