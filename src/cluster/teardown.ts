import fs from 'node:fs';
import path from 'node:path';
import { isAlive, sleep } from '../stack/process';
import { binaryPath } from './binaries';
import { ClusterContext } from './components';
import { runCommand } from './exec';
import { componentPid } from './lifecycle';
import { netnsPids } from './network';

/**
 * What `down` removes besides the components: the pods (through the CRI while containerd still
 * runs, so CNI releases their addresses), containers left by a crashed containerd (runc directly),
 * the shims, and every mount under the node's directories.
 */

/** Stops and removes every pod sandbox through the CRI; false when containerd does not answer. */
export async function removeAllPods(ctx: ClusterContext): Promise<boolean> {
  if (componentPid(ctx, 'containerd') === undefined) return false;
  const crictl = binaryPath(ctx.config, 'crictl');
  if (!fs.existsSync(crictl)) return false;
  const r = await runCommand(crictl, ['--runtime-endpoint', `unix://${ctx.layout.containerdSocket}`, '--timeout', '60s', 'rmp', '--all', '--force'], { timeoutMs: 180_000 });
  if (r.code !== 0) ctx.log(`cluster: removing pods through the CRI failed: ${(r.stderr || r.stdout).trim().slice(0, 500)}`);
  return r.code === 0;
}

/** Containers containerd no longer manages (it crashed or was killed): runc kills and deletes them. */
export async function removeOrphanContainers(ctx: ClusterContext): Promise<void> {
  const runcRoot = path.join(ctx.layout.runtimeDir, 'runc');
  if (!fs.existsSync(runcRoot)) return;
  for (const namespace of fs.readdirSync(runcRoot)) {
    const root = path.join(runcRoot, namespace);
    const list = await runCommand('runc', ['--root', root, 'list', '-q']);
    for (const id of list.stdout.split('\n').filter(Boolean)) {
      await runCommand('runc', ['--root', root, 'kill', id, 'KILL']);
      await runCommand('runc', ['--root', root, 'delete', '--force', id]);
    }
  }
}

/** SIGKILLs whatever still lives in the node's namespace (containerd's shims, a stuck component). */
export async function killNamespaceProcesses(ctx: ClusterContext): Promise<number> {
  const pids = (await netnsPids(ctx.layout)).filter((p) => p !== process.pid);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline && pids.some(isAlive)) await sleep(100);
  return pids.length;
}

/**
 * containerd's CRI puts every container's cgroup under `k8s.io` in each hierarchy (the kubelet makes
 * no per-QoS cgroups here); runc removes a container's own cgroup, the empty parents stay.
 */
export const CGROUP_PARENT = 'k8s.io';

export function podCgroupDirs(): string[] {
  const root = '/sys/fs/cgroup';
  if (!fs.existsSync(root)) return [];
  return fs.readdirSync(root).map((h) => path.join(root, h, CGROUP_PARENT)).filter((d) => fs.existsSync(d));
}

/** Removes the empty container cgroups (rmdir refuses one that still has a process: nothing of anyone else goes). */
export function removePodCgroups(): void {
  const remove = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) remove(path.join(dir, e.name));
    try {
      fs.rmdirSync(dir);
    } catch {
      // busy or already gone
    }
  };
  for (const dir of podCgroupDirs()) remove(dir);
}

/** Mount points under the given directories, deepest first (/proc/self/mountinfo, octal escapes decoded). */
export function mountsUnder(dirs: string[]): string[] {
  const text = fs.readFileSync('/proc/self/mountinfo', 'utf8');
  const points = text
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((p): p is string => p !== undefined)
    .map((p) => p.replace(/\\([0-7]{3})/g, (_m, oct: string) => String.fromCharCode(parseInt(oct, 8))));
  return [...new Set(points.filter((p) => dirs.some((d) => p === d || p.startsWith(`${d}/`))))].sort((a, b) => b.length - a.length);
}

/** Unmounts everything under the node's directories (a busy mount is detached lazily). */
export async function unmountAll(ctx: ClusterContext): Promise<number> {
  const points = mountsUnder([ctx.layout.root, ctx.layout.runtimeDir]);
  for (const point of points) {
    const r = await runCommand('umount', [point]);
    if (r.code !== 0) await runCommand('umount', ['-l', point]);
  }
  return points.length;
}
