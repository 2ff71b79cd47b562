-- One id, one payment (docs/decisions/021-one-id-one-payment.md): an event whose id is stored with
-- other content is a conflict, recorded here where an operator sees it (`ledgerflow conflicts
-- list`): one row per losing variant, keyed by the id and the variant's source. `variant` is its
-- content (canonical JSON), `payload` the message as produced when the worker saw it arrive (NULL
-- for a variant that was stored first and then superseded), `fields` what differs from the stored
-- row, `stored_*` that row's source. On MariaDB the transactions primary key is the id, so an id
-- is unique across all accounts without another table.
CREATE TABLE IF NOT EXISTS transaction_conflicts (
  tx_id             CHAR(36)     CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  source_topic      VARCHAR(249) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  variant_partition INT          NOT NULL,
  variant_offset    BIGINT       NOT NULL,
  stored_partition  INT          NOT NULL,
  stored_offset     BIGINT       NOT NULL,
  fields            VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  variant           TEXT         CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  payload           BLOB         NULL,
  outcome           ENUM('arrived_later','superseded') NOT NULL,
  batch_id          VARCHAR(128) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  recorded_at       DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  PRIMARY KEY (tx_id, source_topic, variant_partition, variant_offset),
  KEY ix_recorded (source_topic, recorded_at)
) ENGINE=InnoDB;
