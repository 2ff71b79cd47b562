import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';

/** Health endpoints of the node's components, asked from the host through the veth. */

export interface TlsFiles {
  ca?: string;
  cert?: string;
  key?: string;
  /**
   * The controller-manager and scheduler serve /healthz with a certificate they make themselves at
   * start; the probe then checks only that the component answers, not who it is.
   */
  insecure?: boolean;
}

/** GETs the URL; resolves the status and body, or undefined when nothing answered within timeoutMs. */
export function httpGet(url: string, timeoutMs: number, tls: TlsFiles = {}): Promise<{ status: number; body: string } | undefined> {
  return new Promise((resolve) => {
    const u = new URL(url);
    const client = u.protocol === 'https:' ? https : http;
    const options: https.RequestOptions = { timeout: timeoutMs };
    if (u.protocol === 'https:') {
      if (tls.ca) options.ca = fs.readFileSync(tls.ca);
      if (tls.cert) options.cert = fs.readFileSync(tls.cert);
      if (tls.key) options.key = fs.readFileSync(tls.key);
      options.rejectUnauthorized = tls.insecure !== true;
    }
    const req = client.get(u, options, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', () => resolve(undefined));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
  });
}

export async function answersOk(url: string, timeoutMs: number, tls: TlsFiles = {}): Promise<boolean> {
  const r = await httpGet(url, timeoutMs, tls);
  return r !== undefined && r.status === 200;
}
