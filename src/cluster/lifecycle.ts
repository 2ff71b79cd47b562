import path from 'node:path';
import { LedgerflowError } from '../domain/errors';
import { ensureDir } from '../stack/layout';
import { isAlive, isOurs, quoteTail, readPid, removeFile, sleep, spawnDetached, stopProcess } from '../stack/process';
import { ClusterContext, NodeComponent } from './components';

/** Start, readiness and stop of one node component: the same life cycle as the local stack's services. */

const PROBE_TIMEOUT_MS = 3_000;
const PROBE_INTERVAL_MS = 500;
export const STOP_GRACE_MS = 20_000;

/** The sbin directories hold ip, iptables, runc and mount, which the kubelet, kube-proxy and containerd call. */
export function componentEnv(): NodeJS.ProcessEnv {
  const dirs = (process.env.PATH ?? '').split(path.delimiter).filter(Boolean);
  for (const d of ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin']) if (!dirs.includes(d)) dirs.push(d);
  return { ...process.env, PATH: dirs.join(path.delimiter) };
}

export function componentPid(ctx: ClusterContext, name: string): number | undefined {
  const pid = readPid(ctx.layout.pidFile(name));
  return pid !== undefined && isOurs(pid, ctx.layout.root) ? pid : undefined;
}

/** Idempotent: a running component is left alone (and awaited), a dead one is started. */
export async function upComponent(ctx: ClusterContext, c: NodeComponent): Promise<boolean> {
  const t0 = Date.now();
  c.prepare(ctx);
  let pid = componentPid(ctx, c.name);
  const started = pid === undefined;
  if (pid === undefined) {
    removeFile(ctx.layout.pidFile(c.name));
    const { command, args } = c.command(ctx);
    // nsenter execs the component in place: the pid we record is the component's own.
    pid = spawnDetached('nsenter', [`--net=${ctx.layout.netnsPath}`, '--', command, ...args], {
      logFile: ctx.layout.logFile(c.name),
      pidFile: ctx.layout.pidFile(c.name),
      cwd: ensureDir(ctx.layout.root),
      service: c.name,
      env: componentEnv(),
    });
  }
  await waitReady(ctx, c, pid);
  const took = ((Date.now() - t0) / 1000).toFixed(1);
  ctx.log(started ? `cluster: ${c.name}: started (pid ${pid}), ready after ${took} s` : `cluster: ${c.name}: already running (pid ${pid})`);
  return started;
}

async function waitReady(ctx: ClusterContext, c: NodeComponent, pid: number): Promise<void> {
  const deadline = Date.now() + c.readyTimeoutMs;
  const logFile = ctx.layout.logFile(c.name);
  for (;;) {
    if (await c.probe(ctx, PROBE_TIMEOUT_MS)) return;
    if (!isAlive(pid)) {
      throw new LedgerflowError('LF_CLUSTER', `${c.name} (pid ${pid}) exited before it was ready; log ${logFile}${quoteTail(logFile)}`, { component: c.name, logFile });
    }
    if (Date.now() >= deadline) {
      throw new LedgerflowError(
        'LF_CLUSTER',
        `${c.name} (pid ${pid}) not ready within ${c.readyTimeoutMs / 1000} s (still running; \`cluster down\` stops it); log ${logFile}${quoteTail(logFile)}`,
        { component: c.name, logFile },
      );
    }
    await sleep(PROBE_INTERVAL_MS);
  }
}

/** SIGTERM, grace, SIGKILL; the pid file goes. */
export async function downComponent(ctx: ClusterContext, name: string, graceMs = STOP_GRACE_MS): Promise<void> {
  const pid = componentPid(ctx, name);
  if (pid !== undefined) {
    const how = await stopProcess(pid, graceMs);
    ctx.log(`cluster: ${name}: ${how === 'terminated' ? 'stopped' : 'killed after the grace period'} (pid ${pid})`);
  }
  removeFile(ctx.layout.pidFile(name));
}
