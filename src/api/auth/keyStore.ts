import fs from 'node:fs';
import { apiKeysFilePath, type Config } from '../../config';
import { parseKeySet, verifyToken, type Credential } from '../../domain/credentials';
import { LedgerflowError } from '../../domain/errors';
import type { Logger } from '../../telemetry/log';

export interface KeyStore {
  /** The credential a bearer token proves, or null. */
  verify(token: string): Credential | null;
  /** The credential of this id as the key set has it now (null once removed or expired). */
  current(id: string): Credential | null;
  /** Re-reads the key file now (the timer does this every api.keysReloadMs). */
  reload(): void;
  close(): void;
}

/**
 * The key set, read from a file (a mounted Secret in Kubernetes) and re-read every
 * api.keysReloadMs, so adding, rotating or revoking a credential needs no restart. A file that
 * cannot be read or parsed at start stops the api; later, the last good key set stays in force
 * and the failure is logged and counted until the file is fixed.
 */
export function createKeyStore(config: Config, log: Logger, onReloadFailed: () => void): KeyStore {
  const file = apiKeysFilePath(config);
  let text = '';
  let byId = new Map<string, Credential>();
  let failing = false;

  const load = (initial: boolean) => {
    let next: string;
    try {
      next = fs.readFileSync(file, 'utf8');
      if (next === text) return;
      byId = new Map(parseKeySet(next).keys.map((k) => [k.id, k]));
      text = next;
      if (!initial) log.info({ file, credentials: byId.size }, 'api key set reloaded');
      failing = false;
    } catch (err) {
      const message = `api.keysFile (LF_API_KEYS_FILE): ${file}: ${(err as Error).message}`;
      if (initial) throw new LedgerflowError('LF_CONFIG', `${message}; create one with \`ledgerflow api-key create\``, 'api.keysFile');
      onReloadFailed();
      if (!failing) log.error({ file, err: (err as Error).message }, 'api key set reload failed; the last good key set stays in force');
      failing = true;
    }
  };
  load(true);
  const timer = setInterval(() => load(false), config.api.keysReloadMs);
  timer.unref();

  return {
    verify: (token) => verifyToken(token, byId, Date.now()),
    current: (id) => {
      const credential = byId.get(id);
      if (!credential) return null;
      return credential.expiresAt !== undefined && Date.parse(credential.expiresAt) <= Date.now() ? null : credential;
    },
    reload: () => load(false),
    close: () => clearInterval(timer),
  };
}
