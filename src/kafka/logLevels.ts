import { logLevel, type LogEntry } from 'kafkajs';

type Level = 'error' | 'warn' | 'info' | 'debug';

/**
 * Messages of the Kafka protocol errors kafkajs retries by itself (leader moved, coordinator
 * loading or moved, ...), from its own error table. kafkajs logs each failed attempt at error
 * level (`Response InitProducerId(...)`, `Response GroupCoordinator(...)`) and then retries; only
 * a failure that outlasts the retries matters, and it reaches our code as an exception.
 */
const RETRIABLE_MESSAGES: ReadonlySet<string> = (() => {
  try {
    // kafkajs is pinned (package.json); its error table is not part of the typed surface.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { errorCodes } = require('kafkajs/src/protocol/error') as { errorCodes: Array<{ retriable: boolean; message: string }> };
    return new Set(errorCodes.filter((e) => e.retriable).map((e) => e.message));
  } catch {
    return new Set<string>();
  }
})();

/** Notices about kafkajs itself, not about this system's state. */
const NOTICES = [/^KafkaJS v2\.0\.0 switched default partitioner/];
/** Normal group life (a member joined or left), not a fault. */
const ROUTINE = [/^The group is rebalancing, re-joining/, /^Consumer is not aware of all assigned partitions, refreshing metadata/];

/** The level a kafkajs log record deserves here (kafkajs's own level, corrected for the cases above). */
export function kafkaRecordLevel(entry: Pick<LogEntry, 'level' | 'log'>): Level {
  const message = entry.log.message;
  if (NOTICES.some((re) => re.test(message))) return 'debug';
  const error = (entry.log as { error?: unknown }).error;
  if (typeof error === 'string' && RETRIABLE_MESSAGES.has(error)) return 'debug';
  if (ROUTINE.some((re) => re.test(message))) return 'info';
  if (entry.level === logLevel.ERROR || entry.level === logLevel.NOTHING) return 'error';
  if (entry.level === logLevel.WARN) return 'warn';
  return entry.level === logLevel.INFO ? 'info' : 'debug';
}
