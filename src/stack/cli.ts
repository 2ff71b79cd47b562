import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Config } from '../config';
import { LedgerflowError } from '../domain/errors';
import type { Logger } from '../telemetry/log';
import {
  kafkaClusterBrokers, profileDefaults, profileServices, restartService, SERVICE_NAMES, ServiceName, stackDown, stackLogs, stackInstall, stackStatus, stackUp,
  startKafkaCluster, stopKafkaCluster, type StackProfile,
} from './index';
import { SECURE_PORT_OFFSET } from './layout';
import { SECURE_ROLES, secureEnvFile, type SecureRole } from './secure-clients';

/** `ledgerflow stack up|down|status|logs|restart …`: thin wiring over the stack module. */

const USAGE = `ledgerflow stack up [--secure] [service…]     install (once) and start; waits until every service answers;
                                              no service named: ${profileDefaults('plain').join(', ')} (otelcol and jaeger on request)
ledgerflow stack install [service…]           only install (once); start nothing
ledgerflow stack down [--secure] [service…]   stop (SIGTERM, SIGKILL after 20 s); data is kept
ledgerflow stack status [--secure]            one line per service; exit 1 unless the default services run and answer
                                              (and otelcol and jaeger answer if they run)
ledgerflow stack logs [--secure] <service> [--lines N]
ledgerflow stack restart [--secure] <service> [--kill]
ledgerflow stack env --secure <role>          the LF_* settings of one process on the secure stack (${SECURE_ROLES.join(', ')})
ledgerflow stack kafka-cluster up|down [--wipe]
                                      the 3-broker KRaft profile (RF 3, min.insync.replicas 2) on 19092/19094/19096
                                      (LF_STACK_KAFKA_CLUSTER_BASE_PORT moves them);
                                      point the pipeline at it with LF_KAFKA_BROKERS and LF_KAFKA_REPLICATION_FACTOR=3
--secure: a second stack beside the plain one (<stack.dir>-secure, ports +${SECURE_PORT_OFFSET}): Kafka SASL_SSL with
          SCRAM-SHA-512 and ACLs, MariaDB requiring TLS, Temporal with mTLS (docs/security.md)
services: ${SERVICE_NAMES.join(', ')} (secure: ${profileServices('secure').join(', ')})`;

function serviceNames(names: string[], profile: StackProfile): ServiceName[] | undefined {
  const known = profileServices(profile);
  for (const n of names) {
    if (!known.includes(n as ServiceName)) {
      throw new LedgerflowError('LF_STACK', `unknown ${profile} stack service "${n}"; known: ${known.join(', ')}`, n);
    }
  }
  return names.length > 0 ? (names as ServiceName[]) : undefined;
}

function parse(args: string[]) {
  try {
    return parseArgs({
      args,
      allowPositionals: true,
      options: { lines: { type: 'string' }, kill: { type: 'boolean' }, wipe: { type: 'boolean' }, secure: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    });
  } catch (err) {
    // node:util's message, without its stack: "Unknown option '--x'. …"
    throw new LedgerflowError('LF_CONFIG', `stack: ${(err as Error).message.split('. ')[0]} (ledgerflow stack --help)`, args);
  }
}

export async function stackCommand(config: Config, args: string[], log: Logger): Promise<number> {
  const { values, positionals } = parse(args);
  const [sub, ...rest] = positionals;
  const profile: StackProfile = values.secure ? 'secure' : 'plain';
  const logLine = (line: string) => log.info(line);
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  switch (sub) {
    case 'up':
      await stackUp(config, { services: serviceNames(rest, profile), log: logLine, profile });
      if (profile === 'secure') {
        process.stdout.write(`secure stack up; settings per process (paths, no secrets): ${path.dirname(secureEnvFile(config, 'consumer'))}/<${SECURE_ROLES.join('|')}>.env\n`);
      }
      return 0;
    case 'install':
      await stackInstall(config, { services: serviceNames(rest, 'plain'), log: logLine });
      return 0;
    case 'down':
      await stackDown(config, { services: serviceNames(rest, profile), log: logLine, profile });
      return 0;
    case 'env': {
      const role = rest[0] as SecureRole | undefined;
      if (profile !== 'secure' || !role || !SECURE_ROLES.includes(role)) {
        throw new LedgerflowError('LF_CONFIG', `stack env needs --secure and a role: ${SECURE_ROLES.join(', ')}`, role);
      }
      process.stdout.write(fs.readFileSync(secureEnvFile(config, role), 'utf8'));
      return 0;
    }
    case 'status': {
      const statuses = await stackStatus(config, profile);
      for (const s of statuses) {
        const state = s.running ? `running (pid ${s.pid})` : s.optional ? 'stopped (on request)' : 'stopped';
        process.stdout.write(`${s.service.padEnd(11)} ${state.padEnd(22)} ${s.address.padEnd(16)} ${s.answering ? 'answering' : 'not answering'}\n`);
      }
      // An optional service that is not running is fine; one that runs must answer.
      return statuses.every((s) => (s.running ? s.answering : s.optional)) ? 0 : 1;
    }
    case 'logs': {
      const [service] = serviceNames(rest.slice(0, 1), profile) ?? [];
      if (!service) throw new LedgerflowError('LF_STACK', `stack logs needs a service: ${profileServices(profile).join(', ')}`);
      const lines = values.lines === undefined ? 100 : Number(values.lines);
      if (!Number.isSafeInteger(lines) || lines <= 0) throw new LedgerflowError('LF_CONFIG', '--lines must be a positive integer', 'lines');
      process.stdout.write(`${stackLogs(config, service, lines, profile)}\n`);
      return 0;
    }
    case 'restart': {
      const [service] = serviceNames(rest.slice(0, 1), profile) ?? [];
      if (!service) throw new LedgerflowError('LF_STACK', `stack restart needs a service: ${profileServices(profile).join(', ')}`);
      await restartService(config, service, values.kill ? 'SIGKILL' : 'SIGTERM', profile);
      return 0;
    }
    case 'kafka-cluster': {
      if (rest[0] === 'up') {
        await startKafkaCluster(config, { log: logLine });
        process.stdout.write(`LF_KAFKA_BROKERS=${kafkaClusterBrokers(config)} LF_KAFKA_REPLICATION_FACTOR=3\n`);
        return 0;
      }
      if (rest[0] === 'down') {
        await stopKafkaCluster(config, { log: logLine, wipe: values.wipe === true });
        return 0;
      }
      throw new LedgerflowError('LF_STACK', 'stack kafka-cluster needs up or down');
    }
    default:
      process.stderr.write(`${USAGE}\n`);
      return sub === undefined || sub === 'help' ? 0 : 2;
  }
}
