import pino from 'pino';

export type Logger = pino.Logger;

/** Structured logs, one JSON line per event; secrets never passed in. */
export function createLogger(level: string, name: string): Logger {
  return pino({ level, name, base: { pid: process.pid } });
}
