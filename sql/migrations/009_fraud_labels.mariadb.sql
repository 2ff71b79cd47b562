-- Ground truth of the synthetic traffic: which transactions the producer injected as fraud, and
-- of what pattern. Only the producer writes it and only dashboards, the demo summary and
-- `fraud eval` read it, to measure precision and recall; detection never reads it
-- (docs/traffic-model.md). Real traffic leaves it empty.
CREATE TABLE IF NOT EXISTS fraud_labels (
  tx_id         CHAR(36)     CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  account       VARCHAR(64)  CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  pattern       VARCHAR(32)  CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  occurred_at   DATETIME(3)  NOT NULL,
  created_at    DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  PRIMARY KEY (tx_id),
  KEY ix_occurred (occurred_at)
) ENGINE=InnoDB;
