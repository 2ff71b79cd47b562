-- SingleStore variant of 007_transaction_conflicts (see the MariaDB file), plus the id table that
-- makes a transaction id unique across all accounts: `transactions` must be unique on
-- (account, id) here (unique keys contain the shard key), so every id is also written, in the
-- batch's transaction, to `transaction_ids`, sharded and unique by id. A stored id then fails the
-- batch's write with a duplicate key, as MariaDB's primary key does, and the lookup finds the row
-- through it. `fingerprint` is the SHA-256 of the canonical content (src/domain/identity.ts), NULL
-- for rows stored before this migration (their content is compared on the row itself).
CREATE ROWSTORE TABLE IF NOT EXISTS transaction_ids (
  id                CHAR(36)     CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  account           VARCHAR(64)  CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  fingerprint       CHAR(64)     NULL,
  source_partition  INT          NOT NULL,
  source_offset     BIGINT       NOT NULL,
  PRIMARY KEY (id),
  SHARD KEY (id)
);

INSERT IGNORE INTO transaction_ids (id, account, fingerprint, source_partition, source_offset)
  SELECT id, account, NULL, source_partition, source_offset FROM transactions;

CREATE ROWSTORE TABLE IF NOT EXISTS transaction_conflicts (
  tx_id             CHAR(36)     CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  source_topic      VARCHAR(249) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  variant_partition INT          NOT NULL,
  variant_offset    BIGINT       NOT NULL,
  stored_partition  INT          NOT NULL,
  stored_offset     BIGINT       NOT NULL,
  fields            VARCHAR(255) NOT NULL,
  variant           LONGTEXT     NOT NULL,
  payload           BLOB         NULL,
  outcome           ENUM('arrived_later','superseded') NOT NULL,
  batch_id          VARCHAR(128) NOT NULL,
  recorded_at       DATETIME(6)  NOT NULL DEFAULT NOW(6),
  PRIMARY KEY (tx_id, source_topic, variant_partition, variant_offset),
  KEY ix_recorded (source_topic, recorded_at),
  SHARD KEY (tx_id)
);
