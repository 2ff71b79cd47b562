import http from 'node:http';
import type { Registry } from 'prom-client';

export interface ProbeServer {
  /** Flip readiness off first thing on SIGTERM so no new work is routed here while draining. */
  setReady(ready: boolean): void;
  /** For a process that can no longer work: /healthz and /readyz answer 503 (the pod is restarted), with the reason when given. */
  setUnhealthy(reason?: string): void;
  close(): Promise<void>;
  port: number;
}

/** /healthz (process alive), /readyz (can take work) and /metrics for processes without the api. */
export async function startProbeServer(host: string, port: number, registry: Registry, isReady: () => boolean = () => true): Promise<ProbeServer> {
  let ready = false;
  let healthy = true;
  let failure: string | undefined;
  const server = http.createServer((req, res) => {
    const url = (req.url ?? '/').split('?')[0];
    if (url === '/healthz') {
      res.writeHead(healthy ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify(healthy ? { status: 'ok' } : { status: 'failed', ...(failure ? { reason: failure } : {}) }));
    } else if (url === '/readyz') {
      const ok = healthy && ready && isReady();
      res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify({ ready: ok }));
    } else if (url === '/metrics') {
      registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
        (err: Error) => res.writeHead(500).end(err.message),
      );
    } else {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : port,
    setReady: (value) => {
      ready = value;
    },
    setUnhealthy: (reason) => {
      healthy = false;
      failure = reason;
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
