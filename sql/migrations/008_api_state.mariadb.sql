-- State the api replicas share (docs/decisions/018-api-authentication.md, 019-http-idempotency.md).
-- HTTP Idempotency-Keys, scoped to the authenticated client: the fingerprint and canonical body of
-- the first request, and its answer once given. Kept for api.idempotencyRetentionS (the api deletes
-- older rows); a key comes back only with the same body.
CREATE TABLE IF NOT EXISTS idempotency_keys (
  client_id       VARCHAR(63)  CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  idem_key        VARCHAR(200) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  fingerprint     CHAR(64)     CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  request_body    MEDIUMTEXT   CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  state           ENUM('in_flight','done','failed') NOT NULL,
  response_status SMALLINT     NULL,
  response_body   MEDIUMTEXT   CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL,
  created_at      DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  updated_at      DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  PRIMARY KEY (client_id, idem_key),
  KEY ix_created (created_at)
) ENGINE=InnoDB;

-- Live-page sign-ins: the SHA-256 of the session cookie, the credential it was made from (checked
-- again on every use, so revoking the credential ends its sessions) and its expiry.
CREATE TABLE IF NOT EXISTS api_sessions (
  token_sha256    CHAR(64)     CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  credential_id   VARCHAR(63)  CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  created_at      DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  expires_at      DATETIME(3)  NOT NULL,
  PRIMARY KEY (token_sha256),
  KEY ix_expires (expires_at)
) ENGINE=InnoDB;
