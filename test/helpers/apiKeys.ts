import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { newCredential, renderKeySet, type ApiScope, type Credential } from '../../src/domain/credentials';

export interface TestKeys {
  /** The key file to point api.keysFile at. */
  file: string;
  /** Bearer token of each credential, by id. */
  tokens: Record<string, string>;
  /** The key-set entries as first written. */
  credentials: Credential[];
  /** Rewrites the key file with these credentials (as an operator rotating keys would). */
  write(credentials: Credential[]): void;
  remove(): void;
}

/** A key file of its own (mode 0600, in a temporary directory) with a fresh credential per spec. */
export function createTestKeys(specs: Array<{ id: string; scopes: ApiScope[]; rateLimitPerMinute?: number }>): TestKeys {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lf-keys-'));
  const file = path.join(dir, 'keys.json');
  const tokens: Record<string, string> = {};
  const credentials = specs.map((s) => {
    const made = newCredential(s.id, s.scopes, s.rateLimitPerMinute === undefined ? {} : { rateLimitPerMinute: s.rateLimitPerMinute });
    tokens[s.id] = made.token;
    return made.credential;
  });
  // Written whole and renamed into place, as `ledgerflow api-key` and a Secret volume do.
  const write = (list: Credential[]) => {
    fs.writeFileSync(`${file}.tmp`, renderKeySet({ keys: list }), { mode: 0o600 });
    fs.renameSync(`${file}.tmp`, file);
  };
  write(credentials);
  return { file, tokens, credentials, write, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
