import { LedgerflowError } from '../domain/errors';

/**
 * What a failed apply means for the batch (docs/decisions/020-poison-isolation.md):
 * - `transient`: the store or the path to it failed for now (connection, deadlock, lock wait,
 *   restart, read-only during a failover, resources): the same work may simply run again.
 * - `systemic`: the store cannot take any event (schema, privileges, a statement it does not
 *   know): no event is to blame, so nothing is isolated; retried with backoff, alerted on.
 * - `deterministic`: the store refuses this data (a value out of range, a constraint, a trigger's
 *   SIGNAL, an invariant of ours): running it again fails again; the batch is split until the
 *   events at fault are found.
 * - `unknown`: anything else: retried a bounded number of times, then treated as deterministic.
 */
export type FailureClass = 'transient' | 'systemic' | 'deterministic' | 'unknown';

export interface Failure {
  class: FailureClass;
  /** A stable, short name for metrics and the parked row: the driver's code, `errno:N` or the error name. */
  code: string;
  errno: number | null;
  message: string;
}

/** MariaDB/MySQL server and client error numbers, by what they mean for a retry. */
const TRANSIENT_ERRNOS = new Set([
  1205, // ER_LOCK_WAIT_TIMEOUT
  1213, // ER_LOCK_DEADLOCK
  1021, // ER_DISK_FULL
  1030, // ER_GET_ERRNO (storage engine error, e.g. no space)
  1037, // ER_OUTOFMEMORY
  1038, // ER_OUT_OF_SORTMEMORY
  1040, // ER_CON_COUNT_ERROR (too many connections)
  1041, // ER_OUT_OF_RESOURCES
  1053, // ER_SERVER_SHUTDOWN
  1114, // ER_RECORD_FILE_FULL
  1152, // ER_ABORTING_CONNECTION
  1158, // ER_NET_READ_ERROR
  1159, // ER_NET_READ_INTERRUPTED
  1160, // ER_NET_ERROR_ON_WRITE
  1161, // ER_NET_WRITE_INTERRUPTED
  1180, // ER_ERROR_DURING_COMMIT
  1181, // ER_ERROR_DURING_ROLLBACK
  1203, // ER_TOO_MANY_USER_CONNECTIONS
  1226, // ER_USER_LIMIT_REACHED
  1290, // ER_OPTION_PREVENTS_STATEMENT (--read-only, e.g. during a failover)
  1317, // ER_QUERY_INTERRUPTED
  1792, // ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION
  1927, // ER_CONNECTION_KILLED
  1969, // ER_STATEMENT_TIMEOUT (max_statement_time)
  2002, // CR_CONNECTION_ERROR
  2003, // CR_CONN_HOST_ERROR
  2006, // CR_SERVER_GONE_ERROR
  2013, // CR_SERVER_LOST
  3024, // ER_QUERY_TIMEOUT (MySQL)
  4031, // ER_CLIENT_INTERACTION_TIMEOUT (MySQL)
]);

const SYSTEMIC_ERRNOS = new Set([
  1017, // ER_FILE_NOT_FOUND
  1034, // ER_NOT_KEYFILE (a corrupt index)
  1036, // ER_OPEN_AS_READONLY
  1044, // ER_DBACCESS_DENIED_ERROR
  1045, // ER_ACCESS_DENIED_ERROR
  1046, // ER_NO_DB_ERROR
  1049, // ER_BAD_DB_ERROR
  1054, // ER_BAD_FIELD_ERROR
  1064, // ER_PARSE_ERROR
  1109, // ER_UNKNOWN_TABLE
  1142, // ER_TABLEACCESS_DENIED_ERROR
  1143, // ER_COLUMNACCESS_DENIED_ERROR
  1146, // ER_NO_SUCH_TABLE
  1148, // ER_NOT_ALLOWED_COMMAND (LOAD DATA LOCAL turned off)
  1149, // ER_SYNTAX_ERROR
  1227, // ER_SPECIFIC_ACCESS_DENIED_ERROR
  1235, // ER_NOT_SUPPORTED_YET
  1356, // ER_VIEW_INVALID
  1370, // ER_PROCACCESS_DENIED_ERROR
  1712, // ER_INDEX_CORRUPT
  1932, // ER_TABLE_IN_ENGINE (table missing in the engine)
]);

const DETERMINISTIC_ERRNOS = new Set([
  1048, // ER_BAD_NULL_ERROR
  1216, // ER_NO_REFERENCED_ROW
  1217, // ER_ROW_IS_REFERENCED
  1264, // ER_WARN_DATA_OUT_OF_RANGE
  1265, // WARN_DATA_TRUNCATED
  1292, // ER_TRUNCATED_WRONG_VALUE
  1300, // ER_INVALID_CHARACTER_STRING
  1366, // ER_TRUNCATED_WRONG_VALUE_FOR_FIELD
  1367, // ER_ILLEGAL_VALUE_FOR_TYPE
  1406, // ER_DATA_TOO_LONG
  1411, // ER_WRONG_VALUE_FOR_TYPE
  1451, // ER_ROW_IS_REFERENCED_2
  1452, // ER_NO_REFERENCED_ROW_2
  1644, // ER_SIGNAL_EXCEPTION (a trigger or procedure refused the row)
  1690, // ER_DATA_OUT_OF_RANGE (arithmetic out of range)
  3819, // ER_CHECK_CONSTRAINT_VIOLATED (MySQL)
  4025, // ER_CONSTRAINT_FAILED (MariaDB CHECK)
]);

/** Socket and driver codes of a lost or refused connection, and of a pool that could not hand one out. */
const TRANSIENT_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'POOL_CLOSED',
  'POOL_ENQUEUELIMIT',
]);

interface DriverError {
  code?: unknown;
  errno?: unknown;
  sqlState?: unknown;
  fatal?: unknown;
  name?: unknown;
  message?: unknown;
}

/**
 * Classifies a failure of a batch's apply by what the store (or our own code) said, never by
 * message text: errno first, then the SQLSTATE class, then the driver's connection codes.
 * A duplicate key is `unknown`: right after the id lookup it is a racing copy of the batch (gone
 * on the next attempt), and anywhere else it is a bug that must not stall the partition.
 */
export function classifyFailure(err: unknown): Failure {
  const e = (err ?? {}) as DriverError;
  const errno = typeof e.errno === 'number' ? e.errno : null;
  const code = typeof e.code === 'string' && e.code.length > 0 ? e.code : errno !== null ? `errno:${errno}` : typeof e.name === 'string' ? e.name : 'Error';
  const message = typeof e.message === 'string' ? e.message.slice(0, 1000) : String(err).slice(0, 1000);
  const of = (cls: FailureClass): Failure => ({ class: cls, code, errno, message });
  if (err instanceof LedgerflowError) return of(err.code === 'LF_INVARIANT' || err.code === 'LF_INVALID_EVENT' ? 'deterministic' : 'unknown');
  if (errno !== null) {
    if (TRANSIENT_ERRNOS.has(errno)) return of('transient');
    if (SYSTEMIC_ERRNOS.has(errno)) return of('systemic');
    if (DETERMINISTIC_ERRNOS.has(errno)) return of('deterministic');
  }
  if (typeof e.code === 'string' && TRANSIENT_CODES.has(e.code)) return of('transient');
  if (e.fatal === true) return of('transient'); // mysql2: the connection is unusable
  const sqlState = typeof e.sqlState === 'string' ? e.sqlState : '';
  if (sqlState.startsWith('08') || sqlState === '40001') return of('transient'); // connection exception, serialization failure
  if (sqlState.startsWith('42') || sqlState.startsWith('28')) return of('systemic'); // syntax or access rule, authorization
  if ((sqlState.startsWith('22') || sqlState.startsWith('23') || sqlState === '45000') && errno !== 1062) return of('deterministic'); // data exception, constraint, user SIGNAL
  if (err instanceof RangeError || err instanceof TypeError || err instanceof SyntaxError) return of('deterministic');
  return of('unknown');
}
