import { execFile, spawn } from 'node:child_process';
import { CONTAINER_LIMIT_ARGS, PODMAN_GLOBAL_ARGS } from '../../src/image/podman';

/**
 * The chart's container securityContext and volumes, as podman flags: UID 65532, read-only root
 * filesystem, no capabilities, no privilege escalation, and a tmpfs only where the chart mounts
 * its emptyDir (/tmp, sizeLimit 256Mi). Host networking reaches the local stack on 127.0.0.1.
 */
export const CHART_RESTRICTIONS = [
  '--read-only', '--read-only-tmpfs=false',
  '--user', '65532:65532',
  '--cap-drop', 'ALL',
  '--security-opt', 'no-new-privileges',
  '--tmpfs', '/tmp:rw,nosuid,nodev,size=256m,mode=1777',
  '--network', 'host',
];

export interface ContainerResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs podman to completion; never rejects (the caller asserts on the code). */
export function podmanRun(args: string[], env: NodeJS.ProcessEnv = process.env, timeoutMs = 600_000): Promise<ContainerResult> {
  return new Promise((resolve) => {
    execFile('podman', [...PODMAN_GLOBAL_ARGS, ...args], { env, encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * `podman run` of the image under the chart's restrictions with these LF_* settings. Values go
 * through podman's environment (`--env NAME`), so passwords never appear on a command line.
 */
export function containerArgs(settings: Record<string, string>, extra: string[] = []): { args: string[]; env: NodeJS.ProcessEnv } {
  const env: NodeJS.ProcessEnv = { ...process.env, ...settings };
  const args = ['run', ...CONTAINER_LIMIT_ARGS, ...CHART_RESTRICTIONS, ...Object.keys(settings).flatMap((k) => ['--env', k]), ...extra];
  return { args, env };
}

/** Streams a detached container's logs into memory (for the assertions on what it logged). */
export function followLogs(name: string): { text(): string; stop(): void } {
  const chunks: string[] = [];
  const child = spawn('podman', [...PODMAN_GLOBAL_ARGS, 'logs', '--follow', name], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.on('data', (c: Buffer) => chunks.push(c.toString('utf8')));
  child.stderr.on('data', (c: Buffer) => chunks.push(c.toString('utf8')));
  return { text: () => chunks.join(''), stop: () => void child.kill('SIGTERM') };
}
