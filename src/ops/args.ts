import { parseArgs, type ParseArgsConfig } from 'node:util';
import { LedgerflowError } from '../domain/errors';

/** parseArgs whose refusal of a wrong flag or value is one LF_CONFIG line naming the command (no stack trace). */
export function parseCommandArgs<O extends NonNullable<ParseArgsConfig['options']>>(command: string, args: string[], options: O) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new LedgerflowError('LF_CONFIG', `${command}: ${(err as Error).message.split('. To specify')[0]} (see ledgerflow ${command} --help)`);
  }
}

/** A positive integer flag, or its fallback. */
export function positiveIntOption(command: string, name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n <= 0) throw new LedgerflowError('LF_CONFIG', `${command}: --${name} must be a positive integer, got ${JSON.stringify(value)}`, name);
  return n;
}
