-- SingleStore variant of 006_fraud_labels: same columns and semantics, sharded by account like
-- fraud_flags, so joining a label to its flag stays on one partition.
CREATE ROWSTORE TABLE IF NOT EXISTS fraud_labels (
  tx_id         CHAR(36)     CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  account       VARCHAR(64)  CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  pattern       VARCHAR(32)  NOT NULL,
  occurred_at   DATETIME(6)  NOT NULL,
  created_at    DATETIME(6)  NOT NULL DEFAULT NOW(6),
  PRIMARY KEY (account, tx_id),
  KEY ix_tx (tx_id),
  KEY ix_occurred (occurred_at),
  SHARD KEY (account)
);
