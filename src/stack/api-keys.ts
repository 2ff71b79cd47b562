import fs from 'node:fs';
import path from 'node:path';
import { stackApiKeysFilePath, type Config } from '../config';
import { newCredential, parseKeySet, renderKeySet, verifyToken, withCredential, type ApiScope, type KeySet } from '../domain/credentials';
import { writeFileIfChanged } from './layout';

/**
 * The local stack's API credentials, generated like its database passwords (mode 0600 in its
 * secrets directory, never in git): `local`, every scope, for the person at the terminal (the demo
 * prints it), and `prometheus`, scope metrics only, which the stack's Prometheus scrapes with.
 */
export const LOCAL_CREDENTIALS: ReadonlyArray<{ id: string; scopes: ApiScope[]; tokenFile: string }> = [
  { id: 'local', scopes: ['ingest', 'read', 'review', 'metrics', 'operator'], tokenFile: 'api-token' },
  { id: 'prometheus', scopes: ['metrics'], tokenFile: 'api-token.prometheus' },
];

export function localTokenFile(config: Config, id: 'local' | 'prometheus'): string {
  const entry = LOCAL_CREDENTIALS.find((c) => c.id === id) as { tokenFile: string };
  return path.resolve(config.stack.dir, 'secrets', entry.tokenFile);
}

/** The token of a local credential (after `stack up`). */
export function localApiToken(config: Config, id: 'local' | 'prometheus' = 'local'): string {
  return fs.readFileSync(localTokenFile(config, id), 'utf8').trim();
}

function readKeySet(file: string): KeySet {
  try {
    return parseKeySet(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { keys: [] };
    throw new Error(`${file}: ${(err as Error).message}; fix or delete it and run stack up again`);
  }
}

/**
 * Makes sure the key set holds both local credentials and their token files verify against it;
 * a missing or stale one is generated anew. Other credentials in the file are kept as they are.
 * Idempotent: a second run changes nothing.
 */
export function ensureLocalApiKeys(config: Config): void {
  // Always the stack's own file, whatever api.keysFile says: never write into someone's key set.
  const file = stackApiKeysFilePath(config);
  let set = readKeySet(file);
  const byId = () => new Map(set.keys.map((k) => [k.id, k]));
  for (const local of LOCAL_CREDENTIALS) {
    const tokenFile = localTokenFile(config, local.id as 'local' | 'prometheus');
    const token = fs.existsSync(tokenFile) ? fs.readFileSync(tokenFile, 'utf8').trim() : '';
    if (token && verifyToken(token, byId(), Date.now())) continue;
    const fresh = newCredential(local.id, [...local.scopes]);
    set = withCredential(set, fresh.credential);
    writeFileIfChanged(file, renderKeySet(set), 0o600);
    writeFileIfChanged(tokenFile, `${fresh.token}\n`, 0o600);
  }
  writeFileIfChanged(file, renderKeySet(set), 0o600);
}
