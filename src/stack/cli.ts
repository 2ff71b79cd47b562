import { parseArgs } from 'node:util';
import { Config } from '../config';
import { LedgerflowError } from '../domain/errors';
import type { Logger } from '../telemetry/log';
import {
  kafkaClusterBrokers, restartService, SERVICE_NAMES, ServiceName, stackDown, stackLogs, stackStatus, stackInstall, stackUp, startKafkaCluster,
  stopKafkaCluster,
} from './index';

/** `ledgerflow stack up|down|status|logs|restart …`: thin wiring over the stack module. */

const USAGE = `ledgerflow stack up [service…]        install (once) and start; waits until every service answers
ledgerflow stack install [service…]   only install (once); start nothing
ledgerflow stack down [service…]      stop (SIGTERM, SIGKILL after 20 s); data is kept
ledgerflow stack status               one line per service; exit 1 unless all run and answer
ledgerflow stack logs <service> [--lines N]
ledgerflow stack restart <service> [--kill]
ledgerflow stack kafka-cluster up|down [--wipe]
                                      the 3-broker KRaft profile (RF 3, min.insync.replicas 2) on 19092/19094/19096;
                                      point the pipeline at it with LF_KAFKA_BROKERS and LF_KAFKA_REPLICATION_FACTOR=3
services: ${SERVICE_NAMES.join(', ')}`;

function serviceNames(names: string[]): ServiceName[] | undefined {
  for (const n of names) {
    if (!SERVICE_NAMES.includes(n as ServiceName)) {
      throw new LedgerflowError('LF_STACK', `unknown service "${n}"; known: ${SERVICE_NAMES.join(', ')}`, n);
    }
  }
  return names.length > 0 ? (names as ServiceName[]) : undefined;
}

export async function stackCommand(config: Config, args: string[], log: Logger): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { lines: { type: 'string' }, kill: { type: 'boolean' }, wipe: { type: 'boolean' } },
  });
  const [sub, ...rest] = positionals;
  const logLine = (line: string) => log.info(line);
  switch (sub) {
    case 'up':
      await stackUp(config, { services: serviceNames(rest), log: logLine });
      return 0;
    case 'install':
      await stackInstall(config, { services: serviceNames(rest), log: logLine });
      return 0;
    case 'down':
      await stackDown(config, { services: serviceNames(rest), log: logLine });
      return 0;
    case 'status': {
      const statuses = await stackStatus(config);
      for (const s of statuses) {
        const state = s.running ? `running (pid ${s.pid})` : 'stopped';
        process.stdout.write(`${s.service.padEnd(11)} ${state.padEnd(22)} ${s.address.padEnd(16)} ${s.answering ? 'answering' : 'not answering'}\n`);
      }
      return statuses.every((s) => s.running && s.answering) ? 0 : 1;
    }
    case 'logs': {
      const [service] = serviceNames(rest.slice(0, 1)) ?? [];
      if (!service) throw new LedgerflowError('LF_STACK', `stack logs needs a service: ${SERVICE_NAMES.join(', ')}`);
      const lines = values.lines === undefined ? 100 : Number(values.lines);
      if (!Number.isSafeInteger(lines) || lines <= 0) throw new LedgerflowError('LF_CONFIG', '--lines must be a positive integer', 'lines');
      process.stdout.write(`${stackLogs(config, service, lines)}\n`);
      return 0;
    }
    case 'restart': {
      const [service] = serviceNames(rest.slice(0, 1)) ?? [];
      if (!service) throw new LedgerflowError('LF_STACK', `stack restart needs a service: ${SERVICE_NAMES.join(', ')}`);
      await restartService(config, service, values.kill ? 'SIGKILL' : 'SIGTERM');
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
