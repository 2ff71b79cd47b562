-- Fraud detection. Scores are DECIMAL (no floating point columns anywhere); money stays BIGINT.
-- Per-account streaming statistics, updated in the same transaction as the batch that moved them.
-- state is the detector's JSON state object (EWMAs, decayed window counts, counterparty bitmap).
CREATE TABLE IF NOT EXISTS account_stats (
  account       VARCHAR(64)  CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  state         TEXT         CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  tx_count      BIGINT       NOT NULL DEFAULT 0,
  last_seen_at  DATETIME(3)  NULL,
  updated_at    DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
  PRIMARY KEY (account)
) ENGINE=InnoDB;

-- One row per flagged transaction: score, the detectors that fired and why.
-- late = flagged from a later batch (the earlier legs of a round trip).
CREATE TABLE IF NOT EXISTS fraud_flags (
  tx_id         CHAR(36)     CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  account       VARCHAR(64)  CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  score         DECIMAL(6,4) NOT NULL,
  detectors     VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  reasons       TEXT         CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci NOT NULL,
  embedding     TEXT         CHARACTER SET ascii COLLATE ascii_bin NULL,
  late          TINYINT      NOT NULL DEFAULT 0,
  batch_id      VARCHAR(128) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  created_at    DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  PRIMARY KEY (tx_id),
  KEY ix_account (account),
  KEY ix_created (created_at)
) ENGINE=InnoDB;

-- Embeddings of confirmed fraud: the nearest-neighbour set. MariaDB keeps the vector as a JSON
-- array and the worker searches it in process; SingleStore has a VECTOR column and DOT_PRODUCT.
CREATE TABLE IF NOT EXISTS fraud_vectors (
  tx_id         CHAR(36)     CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  account       VARCHAR(64)  CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  embedding     TEXT         CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  source        ENUM('review','training') NOT NULL,
  created_at    DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  PRIMARY KEY (tx_id)
) ENGINE=InnoDB;

-- The human review queue. status moves open → approved | rejected (escalated stays undecided).
-- reversed marks that a rejection's balance effect has been undone (exactly once).
CREATE TABLE IF NOT EXISTS reviews (
  tx_id         CHAR(36)     CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  account       VARCHAR(64)  CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  score         DECIMAL(6,4) NOT NULL,
  status        ENUM('open','escalated','approved','rejected') NOT NULL DEFAULT 'open',
  opened_at     DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  escalated_at  DATETIME(3)  NULL,
  decided_at    DATETIME(3)  NULL,
  decided_by    VARCHAR(128) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci NULL,
  reversed      TINYINT      NOT NULL DEFAULT 0,
  PRIMARY KEY (tx_id),
  KEY ix_status_opened (status, opened_at, tx_id)
) ENGINE=InnoDB;

-- Every review decision and escalation: who, when, why.
CREATE TABLE IF NOT EXISTS review_audit (
  id            BIGINT       NOT NULL AUTO_INCREMENT,
  tx_id         CHAR(36)     CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  action        ENUM('opened','approve','reject','escalate','reversed') NOT NULL,
  actor         VARCHAR(128) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci NOT NULL,
  reason        VARCHAR(500) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci NOT NULL DEFAULT '',
  at            DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  PRIMARY KEY (id),
  KEY ix_tx (tx_id, id)
) ENGINE=InnoDB;
