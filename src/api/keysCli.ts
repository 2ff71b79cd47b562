import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { apiKeysFilePath, type Config } from '../config';
import { API_SCOPES, newCredential, parseKeySet, renderKeySet, SCOPE_DOCS, withCredential, type ApiScope, type KeySet } from '../domain/credentials';
import { LedgerflowError } from '../domain/errors';

export const API_KEY_USAGE = `ledgerflow api-key <create|revoke|list> [options]

  create --id ID --scopes S1,S2 [--rate-limit N] [--expires ISO-8601] [--file FILE]
         adds (or rotates: same id) a credential; prints its token once, on stdout
  revoke --id ID [--file FILE]          removes a credential
  list [--file FILE]                    ids, scopes, limits, expiry (never tokens)

  FILE defaults to api.keysFile (LF_API_KEYS_FILE), else the local stack's key set.
  The api re-reads the file every api.keysReloadMs: no restart. In Kubernetes, put the file in the
  Secret named by api.auth.existingSecret (see docs/api.md).

Scopes:
${API_SCOPES.map((s) => `  ${s.padEnd(9)}${SCOPE_DOCS[s]}`).join('\n')}`;

function fail(message: string): never {
  throw new LedgerflowError('LF_CONFIG', message);
}

function readSet(file: string, mustExist: boolean): KeySet {
  if (!fs.existsSync(file)) return mustExist ? fail(`${file} does not exist`) : { keys: [] };
  try {
    return parseKeySet(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    return fail(`${file}: ${(err as Error).message}`);
  }
}

/** Written whole to a temporary file and renamed: the api never reads half a key set. */
function writeSet(file: string, set: KeySet): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, renderKeySet(set), { mode: 0o600 });
  fs.renameSync(tmp, file);
}

function scopesOf(text: string | undefined): ApiScope[] {
  const scopes = (text ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = scopes.filter((s) => !(API_SCOPES as readonly string[]).includes(s));
  if (scopes.length === 0 || unknown.length > 0) fail(`--scopes: a comma-separated list of ${API_SCOPES.join(', ')}${unknown.length ? `; unknown: ${unknown.join(', ')}` : ''}`);
  return scopes as ApiScope[];
}

/** `ledgerflow api-key …`: manage the key set the api verifies credentials against. */
export async function apiKeyCommand(config: Config, args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: { id: { type: 'string' }, scopes: { type: 'string' }, 'rate-limit': { type: 'string' }, expires: { type: 'string' }, file: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    });
  } catch (err) {
    return fail(`${(err as Error).message.split('\n')[0]} (ledgerflow api-key --help)`);
  }
  const { values, positionals } = parsed;
  const [action, ...extra] = positionals;
  if (values.help || action === undefined || action === 'help') {
    process.stdout.write(`${API_KEY_USAGE}\n`);
    return values.help || action === 'help' ? 0 : 2;
  }
  if (extra.length > 0) fail(`unexpected argument ${extra[0]} (ledgerflow api-key --help)`);
  const file = path.resolve(values.file ?? apiKeysFilePath(config));
  if (action === 'list') {
    for (const k of readSet(file, true).keys) {
      process.stdout.write(`${k.id}\t${k.scopes.join(',')}\t${k.rateLimitPerMinute ?? 'default'}/min\t${k.expiresAt ?? 'no expiry'}\n`);
    }
    return 0;
  }
  if (!values.id) fail(`${action} needs --id`);
  if (action === 'revoke') {
    const set = readSet(file, true);
    if (!set.keys.some((k) => k.id === values.id)) fail(`no credential ${values.id} in ${file}`);
    writeSet(file, { keys: set.keys.filter((k) => k.id !== values.id) });
    process.stderr.write(`revoked ${values.id} in ${file}; the api drops it within api.keysReloadMs\n`);
    return 0;
  }
  if (action !== 'create') fail(`unknown action ${action}: create, revoke or list (ledgerflow api-key --help)`);
  const rate = values['rate-limit'] === undefined ? undefined : Number(values['rate-limit']);
  if (rate !== undefined && (!Number.isSafeInteger(rate) || rate <= 0)) fail(`--rate-limit must be a positive integer (requests per minute), got ${values['rate-limit']}`);
  if (values.expires !== undefined && !Number.isFinite(Date.parse(values.expires))) fail(`--expires must be an ISO 8601 date-time, got ${values.expires}`);
  let created;
  try {
    created = newCredential(values.id, scopesOf(values.scopes), rate === undefined ? {} : { rateLimitPerMinute: rate });
  } catch (err) {
    return fail((err as Error).message);
  }
  const credential = values.expires === undefined ? created.credential : { ...created.credential, expiresAt: new Date(values.expires).toISOString() };
  writeSet(file, withCredential(readSet(file, false), credential));
  process.stderr.write(`credential ${values.id} (${credential.scopes.join(', ')}) written to ${file}; its token, shown only now:\n`);
  process.stdout.write(`${created.token}\n`);
  return 0;
}
