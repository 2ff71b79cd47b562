-- SingleStore variant of 002_fraud: same columns and semantics, sharded by account, so unique keys
-- contain account. Embeddings are VECTOR(6, F32) (the PCA embedding has 6 components) and the
-- nearest-neighbour search is DOT_PRODUCT over unit vectors (= cosine similarity).
CREATE ROWSTORE TABLE IF NOT EXISTS account_stats (
  account       VARCHAR(64)  CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  state         LONGTEXT     NOT NULL,
  tx_count      BIGINT       NOT NULL DEFAULT 0,
  last_seen_at  DATETIME(6)  NULL,
  updated_at    DATETIME(6)  NOT NULL DEFAULT NOW(6) ON UPDATE NOW(6),
  PRIMARY KEY (account),
  SHARD KEY (account)
);

CREATE TABLE IF NOT EXISTS fraud_flags (
  tx_id         CHAR(36)     CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  account       VARCHAR(64)  CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  score         DECIMAL(6,4) NOT NULL,
  detectors     VARCHAR(255) NOT NULL,
  reasons       LONGTEXT     NOT NULL,
  embedding     VECTOR(6, F32) NULL,
  late          TINYINT      NOT NULL DEFAULT 0,
  batch_id      VARCHAR(128) NOT NULL,
  created_at    DATETIME(6)  NOT NULL DEFAULT NOW(6),
  UNIQUE KEY uk_account_tx (account, tx_id) USING HASH,
  KEY ix_tx (tx_id) USING HASH,
  SHARD KEY (account),
  SORT KEY (created_at)
);

CREATE TABLE IF NOT EXISTS fraud_vectors (
  tx_id         CHAR(36)     CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  account       VARCHAR(64)  CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  embedding     VECTOR(6, F32) NOT NULL,
  source        ENUM('review','training') NOT NULL,
  created_at    DATETIME(6)  NOT NULL DEFAULT NOW(6),
  UNIQUE KEY uk_account_tx (account, tx_id) USING HASH,
  SHARD KEY (account),
  SORT KEY (created_at)
);

CREATE ROWSTORE TABLE IF NOT EXISTS reviews (
  tx_id         CHAR(36)     CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  account       VARCHAR(64)  CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  score         DECIMAL(6,4) NOT NULL,
  status        ENUM('open','escalated','approved','rejected') NOT NULL DEFAULT 'open',
  opened_at     DATETIME(6)  NOT NULL DEFAULT NOW(6),
  escalated_at  DATETIME(6)  NULL,
  decided_at    DATETIME(6)  NULL,
  decided_by    VARCHAR(128) NULL,
  reversed      TINYINT      NOT NULL DEFAULT 0,
  PRIMARY KEY (account, tx_id),
  KEY ix_tx (tx_id),
  KEY ix_status_opened (status, opened_at, tx_id),
  SHARD KEY (account)
);

CREATE ROWSTORE TABLE IF NOT EXISTS review_audit (
  id            BIGINT       NOT NULL AUTO_INCREMENT,
  tx_id         CHAR(36)     CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  action        ENUM('opened','approve','reject','escalate','reversed') NOT NULL,
  actor         VARCHAR(128) NOT NULL,
  reason        VARCHAR(500) NOT NULL DEFAULT '',
  at            DATETIME(6)  NOT NULL DEFAULT NOW(6),
  PRIMARY KEY (tx_id, id),
  SHARD KEY (tx_id)
);
