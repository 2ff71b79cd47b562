-- SingleStore variant of 006_parked_events: same columns and semantics (see the MariaDB file).
-- A small rowstore table sharded by source, so its primary key contains the shard key.
CREATE ROWSTORE TABLE IF NOT EXISTS parked_events (
  source_topic     VARCHAR(249) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  source_partition INT          NOT NULL,
  source_offset    BIGINT       NOT NULL,
  tx_id            CHAR(36)     CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  account          VARCHAR(64)  CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  batch_id         VARCHAR(128) NOT NULL,
  error_code       VARCHAR(64)  NOT NULL,
  errno            INT          NULL,
  reason           VARCHAR(1000) NOT NULL,
  payload          BLOB         NOT NULL,
  payload_exact    TINYINT      NOT NULL DEFAULT 1,
  parked_at        DATETIME(6)  NOT NULL DEFAULT NOW(6),
  replay_count     INT          NOT NULL DEFAULT 0,
  replayed_at      DATETIME(6)  NULL,
  PRIMARY KEY (source_topic, source_partition, source_offset),
  KEY ix_parked_at (parked_at),
  KEY ix_tx (tx_id),
  SHARD KEY (source_partition, source_offset)
);
