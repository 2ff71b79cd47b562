/** Stable error codes: callers branch on `code`, never on message text. */
export type ErrorCode =
  | 'LF_CONFIG'
  | 'LF_INVALID_EVENT'
  | 'LF_INVALID_REQUEST'
  | 'LF_NOT_FOUND'
  | 'LF_STACK'
  | 'LF_PORT_TAKEN'
  | 'LF_INSTALL'
  | 'LF_IMAGE'
  | 'LF_MIGRATION'
  | 'LF_INVARIANT'
  | 'LF_VERIFY'
  | 'LF_UNDECODABLE_BATCH'
  /** A dependency refused our credentials or their rights (SASL login, ACL, database user). */
  | 'LF_KAFKA_AUTH'
  | 'LF_DB_AUTH'
  /** A TLS handshake failed: an untrusted certificate, or TLS settings that do not match the server. */
  | 'LF_KAFKA_TLS'
  | 'LF_DB_TLS'
  | 'LF_TEMPORAL_TLS'
  | 'LF_CLUSTER';

export class LedgerflowError extends Error {
  readonly code: ErrorCode;
  /** The offending value or setting name, when there is one. */
  readonly detail: unknown;

  constructor(code: ErrorCode, message: string, detail?: unknown) {
    super(message);
    this.name = 'LedgerflowError';
    this.code = code;
    this.detail = detail;
  }
}

export function invariant(condition: unknown, message: string, detail?: unknown): asserts condition {
  if (!condition) throw new LedgerflowError('LF_INVARIANT', message, detail);
}
