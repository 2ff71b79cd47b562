-- SingleStore variant of 006_api_state: same columns and semantics. Both are small key-value
-- tables read and updated by primary key, so rowstore, sharded by their key.
CREATE ROWSTORE TABLE IF NOT EXISTS idempotency_keys (
  client_id       VARCHAR(63)  CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  idem_key        VARCHAR(200) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  fingerprint     CHAR(64)     CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  request_body    LONGTEXT     CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  state           ENUM('in_flight','done','failed') NOT NULL,
  response_status SMALLINT     NULL,
  response_body   LONGTEXT     CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL,
  created_at      DATETIME(6)  NOT NULL DEFAULT NOW(6),
  updated_at      DATETIME(6)  NOT NULL DEFAULT NOW(6),
  PRIMARY KEY (client_id, idem_key),
  KEY ix_created (created_at),
  SHARD KEY (client_id, idem_key)
);

CREATE ROWSTORE TABLE IF NOT EXISTS api_sessions (
  token_sha256    CHAR(64)     CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  credential_id   VARCHAR(63)  CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  created_at      DATETIME(6)  NOT NULL DEFAULT NOW(6),
  expires_at      DATETIME(6)  NOT NULL,
  PRIMARY KEY (token_sha256),
  KEY ix_expires (expires_at),
  SHARD KEY (token_sha256)
);
