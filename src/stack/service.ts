import { Config } from '../config';
import { SystemPackage } from './install';
import { ServiceName, ServicePort, StackLayout, StackPorts, StackProfile } from './layout';

/** What every stack operation gets: the config, where things live, which ports, how to log. */
export interface StackContext {
  config: Config;
  profile: StackProfile;
  layout: StackLayout;
  ports: StackPorts;
  log: (line: string) => void;
}

/**
 * One local service. The orchestrator (index.ts) owns the life cycle — ports, spawn, pid file,
 * readiness wait — and asks the definition only what differs between services.
 */
export interface ServiceDefinition {
  name: ServiceName;
  /** host:port clients use; shown by `status`. */
  address: string;
  /** Every port the service binds; all must be free before it starts. */
  ports: ServicePort[];
  /** Longest wait for the service to answer after a start. */
  readyTimeoutMs: number;
  /** Debian packages whose binaries must exist (installed together, before anything else). */
  systemPackages: SystemPackage[];
  /** Downloads and installs what the service needs, once; a marker makes a second call a no-op. */
  install(ctx: StackContext): Promise<void>;
  /** Writes config files and initialises the data directory (once); runs on every `up`. */
  prepare(ctx: StackContext): Promise<void>;
  /** The long-running command (its argv must contain the absolute stack directory: see isOurs). */
  command(ctx: StackContext): { command: string; args: string[]; cwd: string };
  /** True when the service answers a real request within timeoutMs; never throws. */
  probe(ctx: StackContext, timeoutMs: number): Promise<boolean>;
  /** Runs once the service answers, on every `up`; `started` says whether this `up` started it. */
  afterReady?(ctx: StackContext, started: boolean): Promise<void>;
  /** Marker files written by install/prepare (tests check a second `up` rewrites none of them). */
  markers(ctx: StackContext): string[];
}

/** Resolves to false when `work` has not settled within timeoutMs (a probe must never hang). */
export async function withinTimeout(work: Promise<boolean>, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  try {
    return await Promise.race([work.catch(() => false), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
