import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from '../telemetry/log';
import { freePort } from '../stack/process';

/** The pipeline processes a fleet runs: what Kubernetes runs as the consumer and worker Deployments. */
export type Role = 'consume' | 'work';

export const HTTP_PORT_SETTING: Record<Role, string> = { consume: 'consumer.httpPort', work: 'worker.httpPort' };

interface Member {
  role: Role;
  slot: number;
  generation: number;
  child: ChildProcess;
  port: number;
  logFile: string;
  /** Answered /readyz 200 once: from then on a death is a crash the supervisor repairs. */
  ready: boolean;
  /** Set when the fleet itself stops or kills the process: its exit is not a crash. */
  expectedExit: boolean;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface FleetOptions {
  /** Environment of a member, given the port its /healthz, /readyz and /metrics listen on. */
  env(role: Role, httpPort: number): NodeJS.ProcessEnv;
  /** Directory for each member's output (one file per process start). */
  logDir: string;
  log: Logger;
  readyTimeoutMs?: number;
  /** Node flags of each member on top of this process's (the benchmark's SERVICE_NODE_FLAGS). */
  nodeArgs?: readonly string[];
}

export interface ExitRecord {
  role: Role;
  slot: number;
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * Real `ledgerflow consume|work` processes, supervised the way a Deployment is: a member that dies
 * on its own is counted as a crash and started again; scale() adds members or removes them with
 * SIGTERM (graceful drain), kill() takes one down and brings a replacement up.
 */
export class Fleet {
  private readonly members = new Map<Role, Member[]>([['consume', []], ['work', []]]);
  private stopping = false;
  private generation = 0;
  readonly crashes: ExitRecord[] = [];
  readonly gracefulExits: ExitRecord[] = [];

  constructor(private readonly options: FleetOptions) {
    fs.mkdirSync(options.logDir, { recursive: true });
  }

  size(role: Role): number {
    return (this.members.get(role) as Member[]).length;
  }

  /** The /readyz URL of each running member of a role (tests watch them during a drain). */
  readyUrls(role: Role): string[] {
    return (this.members.get(role) as Member[]).map((m) => `http://127.0.0.1:${m.port}/readyz`);
  }

  async scale(role: Role, replicas: number): Promise<void> {
    const list = this.members.get(role) as Member[];
    const starts: Promise<Member>[] = [];
    for (let slot = list.length; slot < replicas; slot++) starts.push(this.start(role, slot));
    await Promise.all(starts);
    while (list.length > replicas) await this.terminate(list[list.length - 1] as Member);
  }

  /**
   * Takes down the member at `target` (modulo the replicas) with `signal`, keeps it down for
   * `downMs`, then starts a replacement and waits until it is ready.
   */
  async kill(role: Role, target: number, signal: 'SIGKILL' | 'SIGTERM', downMs: number): Promise<ExitRecord> {
    const list = this.members.get(role) as Member[];
    if (list.length === 0) throw new Error(`no ${role} process to kill`);
    const member = list[target % list.length] as Member;
    const exit = await this.stopMember(member, signal);
    await delay(downMs);
    await this.start(role, member.slot);
    return exit;
  }

  async stopAll(): Promise<void> {
    this.stopping = true;
    const all = [...(this.members.get('consume') as Member[]), ...(this.members.get('work') as Member[])];
    await Promise.all(all.map((m) => this.stopMember(m, 'SIGTERM')));
  }

  private async terminate(member: Member): Promise<void> {
    await this.stopMember(member, 'SIGTERM');
  }

  private async stopMember(member: Member, signal: 'SIGKILL' | 'SIGTERM'): Promise<ExitRecord> {
    member.expectedExit = true;
    if (member.child.exitCode === null && member.child.signalCode === null) member.child.kill(signal);
    const { code, signal: got } = await member.exited;
    this.remove(member);
    const record = { role: member.role, slot: member.slot, code, signal: got };
    if (signal === 'SIGTERM') this.gracefulExits.push(record);
    return record;
  }

  /** Starts a member and waits until it is ready; one that dies while starting is started again. */
  private async start(role: Role, slot: number): Promise<Member> {
    const deadline = Date.now() + (this.options.readyTimeoutMs ?? 120_000);
    for (;;) {
      const member = await this.spawnMember(role, slot);
      if (await this.waitReady(member, deadline)) {
        member.ready = true;
        return member;
      }
      this.remove(member);
      if (this.stopping) return member;
      const { code, signal } = await member.exited;
      this.crashes.push({ role, slot, code, signal });
      this.options.log.warn({ role, slot, code, signal, logFile: member.logFile }, 'fleet: process died while starting; starting it again');
      await delay(1_000);
    }
  }

  private async spawnMember(role: Role, slot: number): Promise<Member> {
    const port = await freePort();
    this.generation += 1;
    const logFile = path.join(this.options.logDir, `${role}-${slot}-${this.generation}.log`);
    const out = fs.openSync(logFile, 'a');
    const child = spawn(process.execPath, [...childNodeArgs(), ...(this.options.nodeArgs ?? []), cliPath(), role], {
      env: this.options.env(role, port),
      stdio: ['ignore', out, out],
    });
    fs.closeSync(out);
    const member: Member = {
      role, slot, generation: this.generation, child, port, logFile, ready: false, expectedExit: false,
      exited: new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal }))),
    };
    const list = this.members.get(role) as Member[];
    list.push(member);
    list.sort((a, b) => a.slot - b.slot);
    void member.exited.then(({ code, signal }) => {
      // Our own stops, and deaths while starting (start() handles those), are not crashes here.
      if (member.expectedExit || this.stopping || !member.ready) return;
      // A crash: record it and replace the process, as a Deployment would.
      this.crashes.push({ role, slot, code, signal });
      this.options.log.warn({ role, slot, code, signal, logFile }, 'fleet: process died on its own; restarting it');
      this.remove(member);
      setTimeout(() => {
        if (!this.stopping) this.start(role, slot).catch((err: Error) => this.options.log.error({ err: err.message, role, slot }, 'fleet: restart failed'));
      }, 1_000);
    });
    return member;
  }

  private remove(member: Member): void {
    const list = this.members.get(member.role) as Member[];
    const at = list.indexOf(member);
    if (at >= 0) list.splice(at, 1);
  }

  /** True once /readyz answers 200; false when the process died first. */
  private async waitReady(member: Member, deadline: number): Promise<boolean> {
    const url = `http://127.0.0.1:${member.port}/readyz`;
    for (;;) {
      if (member.child.exitCode !== null || member.child.signalCode !== null) return false;
      const status = await fetch(url).then((r) => r.status, () => 0);
      if (status === 200) return true;
      if (Date.now() > deadline) {
        member.expectedExit = true;
        member.child.kill('SIGKILL');
        throw new Error(`${member.role} at ${url} not ready in time; see ${member.logFile}`);
      }
      await delay(200);
    }
  }
}

/** The CLI entry of this installation: src/cli.ts under tsx, dist/src/cli.js when built. */
export function cliPath(): string {
  return require.resolve('../cli');
}

/** This process's node flags minus the test runner's own (children are plain CLI processes). */
export function childNodeArgs(): string[] {
  return process.execArgv.filter((a) => !a.startsWith('--test'));
}

export function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

