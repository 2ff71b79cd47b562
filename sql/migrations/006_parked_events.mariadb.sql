-- Parked events (docs/decisions/020-poison-isolation.md): events the store refused for a lasting
-- reason that is not a business rule (a constraint, a trigger, a value it cannot hold), isolated
-- from their batch so the partition goes on. Kept with the Kafka message value as produced, the
-- error and where the event came from, until an operator fixes the cause and replays it
-- (`ledgerflow parked replay`). Keyed by the source, so parking the same event twice is one row.
CREATE TABLE IF NOT EXISTS parked_events (
  source_topic     VARCHAR(249) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  source_partition INT          NOT NULL,
  source_offset    BIGINT       NOT NULL,
  tx_id            CHAR(36)     CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  account          VARCHAR(64)  CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  batch_id         VARCHAR(128) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  error_code       VARCHAR(64)  CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  errno            INT          NULL,
  reason           VARCHAR(1000) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci NOT NULL,
  payload          BLOB         NOT NULL,
  payload_exact    TINYINT      NOT NULL DEFAULT 1,
  parked_at        DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  replay_count     INT          NOT NULL DEFAULT 0,
  replayed_at      DATETIME(3)  NULL,
  PRIMARY KEY (source_topic, source_partition, source_offset),
  KEY ix_parked_at (parked_at),
  KEY ix_tx (tx_id)
) ENGINE=InnoDB;
