import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ensureDir } from './layout';

/**
 * Reads a generated secret, creating it (random, mode 0600) the first time. An existing file is
 * never rewritten: running processes and other tools may already hold its value.
 */
export function readOrCreateSecret(file: string): string {
  ensureDir(path.dirname(file), 0o700);
  try {
    fs.writeFileSync(file, `${randomBytes(24).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const secret = fs.readFileSync(file, 'utf8').trim();
  if (!secret) throw new Error(`${file} is empty; delete it and run stack up again to generate a new password`);
  return secret;
}
