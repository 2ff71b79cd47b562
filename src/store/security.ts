import type { SslOptions } from 'mysql2';
import { readSettingFile, type Config } from '../config';
import { LedgerflowError } from '../domain/errors';
import { describeTlsFailure } from '../net/tls';
import type { DbRole, Pool } from './pool';

/**
 * TLS to the database: the server's certificate is verified against db.tlsCaPath (or the system's
 * CAs) and so is its host name; there is no "encrypt but trust anyone" mode. docs/security.md.
 */
export function dbTls(config: Config): SslOptions | undefined {
  const { tls, tlsCaPath } = config.db;
  if (!tls && !tlsCaPath) return undefined;
  return { ...(tlsCaPath ? { ca: readSettingFile(tlsCaPath, 'db.tlsCaPath') } : {}), rejectUnauthorized: true, verifyIdentity: true };
}

/** MariaDB/MySQL error numbers that mean "these credentials may not connect", not "try later". */
const ACCESS_DENIED_ERRNOS = new Set([1045, 1044]);
/** require_secure_transport refused a connection without TLS: 3159 on MySQL, 1045 with this text on MariaDB. */
const INSECURE_TRANSPORT = /insecure transport|require_secure_transport|secure transport/i;

/** The one-line error of a first database connection that failed for a reason a setting fixes; else err itself. */
export function explainDbStartError(config: Config, role: DbRole, err: unknown): unknown {
  const e = err as { errno?: number; code?: string; message?: string };
  const where = `database ${config.db.host}:${config.db.port}`;
  const user = role === 'app' ? config.db.user : config.db.migrationUser;
  const message = e.message ?? '';
  if (e.errno === 3159 || INSECURE_TRANSPORT.test(message)) {
    return new LedgerflowError('LF_DB_TLS', `${where} requires TLS and refused a plaintext connection: set db.tls (LF_DB_TLS=true) and db.tlsCaPath (LF_DB_TLS_CA_PATH)`, { setting: 'db.tls' });
  }
  const tls = describeTlsFailure(err);
  if (tls) {
    return new LedgerflowError('LF_DB_TLS', `${where}: the server's TLS certificate was refused (${tls}): set db.tlsCaPath (LF_DB_TLS_CA_PATH) to the CA that signed it, and reach the server by a name its certificate holds`, { setting: 'db.tlsCaPath' });
  }
  if (/server does not support SSL|SSL connection error|HANDSHAKE_NO_SSL_SUPPORT/i.test(`${message} ${e.code ?? ''}`)) {
    return new LedgerflowError('LF_DB_TLS', `${where} does not offer TLS but db.tls is on: turn TLS on in the server, or db.tls off for a server that needs none`, { setting: 'db.tls' });
  }
  if (e.errno !== undefined && ACCESS_DENIED_ERRNOS.has(e.errno)) {
    const password = role === 'app' ? 'db.password (LF_DB_PASSWORD) or db.passwordFile (LF_DB_PASSWORD_FILE)' : 'db.migrationPassword (LF_DB_MIGRATION_PASSWORD) or db.migrationPasswordFile (LF_DB_MIGRATION_PASSWORD_FILE)';
    // MariaDB answers a plaintext login under require_secure_transport or REQUIRE SSL with this
    // same "access denied" as a wrong password: without TLS, both fixes are named.
    const plaintext = dbTls(config) ? '' : '; this connection is plaintext: if the server requires TLS, set db.tls (LF_DB_TLS=true) and db.tlsCaPath (LF_DB_TLS_CA_PATH)';
    return new LedgerflowError('LF_DB_AUTH', `${where} refused user "${user}" (${e.code ?? e.errno}: ${message}): check ${role === 'app' ? 'db.user' : 'db.migrationUser'} and ${password}${plaintext}`, { user });
  }
  return err;
}

/**
 * A first query at start, so a process with wrong credentials or TLS settings stops at once with
 * one clear line instead of failing its first batch or request. A database that is merely down or
 * slow is not a settings problem: that is left to the pool's retries and the readiness probes.
 */
export async function checkDatabase(pool: Pool, config: Config, role: DbRole): Promise<void> {
  try {
    await pool.query('SELECT 1');
  } catch (err) {
    const explained = explainDbStartError(config, role, err);
    if (explained !== err) throw explained;
  }
}
