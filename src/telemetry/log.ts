import pino from 'pino';

export type Logger = pino.Logger;

/** `json`: one structured line per event, for a collector. `pretty`: a short line for a person. */
export type LogFormat = 'json' | 'pretty';

/** The format a `log.format` setting means here: `auto` is pretty on a terminal, JSON otherwise. */
export function resolveLogFormat(setting: 'auto' | LogFormat, isTerminal = process.stdout.isTTY === true): LogFormat {
  return setting === 'auto' ? (isTerminal ? 'pretty' : 'json') : setting;
}

const LEVEL_NAMES: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const OMITTED = new Set(['level', 'time', 'pid', 'hostname', 'name', 'msg']);

/** One pino JSON record as a person reads it: time, level, process, message, then the fields. */
export function prettyLine(json: string): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json.trimEnd();
  }
  const time = new Date(Number(record.time)).toISOString().slice(11, 19);
  const level = (LEVEL_NAMES[Number(record.level)] ?? String(record.level)).padEnd(5);
  const fields = Object.entries(record)
    .filter(([k]) => !OMITTED.has(k))
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
  return `${time} ${level} ${String(record.name ?? '')}: ${String(record.msg ?? '')}${fields ? `  ${fields}` : ''}`;
}

/** Structured logs, one JSON line per event (or its pretty form for a person); secrets never passed in. */
export function createLogger(level: string, name: string, format: LogFormat = 'json'): Logger {
  const options = { level, name, base: { pid: process.pid } };
  if (format === 'json') return pino(options);
  return pino(options, { write: (line: string) => void process.stdout.write(`${prettyLine(line)}\n`) });
}

/** JSON records appended to a file: a process whose terminal belongs to a person keeps its records there. */
export function createFileLogger(level: string, name: string, file: string): Logger {
  return pino({ level, name, base: { pid: process.pid } }, pino.destination({ dest: file, sync: true, append: true }));
}
