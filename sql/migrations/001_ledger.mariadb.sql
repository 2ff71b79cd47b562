-- Ledger core. Money is BIGINT minor units (never DOUBLE); one row per transaction id.
-- Ids are UUIDv7 (time-ordered) so primary-key inserts stay append-mostly.
CREATE TABLE IF NOT EXISTS transactions (
  id            CHAR(36)     CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  account       VARCHAR(64)  CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  counterparty  VARCHAR(64)  CHARACTER SET ascii COLLATE ascii_bin NULL,
  type          ENUM('debit','credit','transfer') NOT NULL,
  amount_minor  BIGINT       NOT NULL,
  currency      CHAR(3)      CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  status        ENUM('applied','rejected') NOT NULL,
  reason        VARCHAR(64)  CHARACTER SET ascii COLLATE ascii_bin NULL,
  description   VARCHAR(140) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci NULL,
  occurred_at   DATETIME(3)  NOT NULL,
  ingested_at   DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  source_partition INT       NOT NULL,
  source_offset BIGINT       NOT NULL,
  batch_id      VARCHAR(128) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  PRIMARY KEY (id),
  KEY ix_account_time (account, occurred_at, id),
  KEY ix_counterparty_time (counterparty, occurred_at, id),
  KEY ix_occurred_at (occurred_at),
  KEY ix_amount (amount_minor),
  CONSTRAINT ck_amount_positive CHECK (amount_minor > 0)
) ENGINE=InnoDB;

-- One row per (account, currency). version counts the batches that moved it.
CREATE TABLE IF NOT EXISTS balances (
  account       VARCHAR(64)  CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  currency      CHAR(3)      CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  balance_minor BIGINT       NOT NULL DEFAULT 0,
  version       BIGINT       NOT NULL DEFAULT 0,
  updated_at    DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
  PRIMARY KEY (account, currency)
) ENGINE=InnoDB;

-- Per-minute counts and sums by type, currency, status and rejection reason ('' when applied):
-- what dashboards and /stats read, so they never scan transactions.
CREATE TABLE IF NOT EXISTS rollup_minute (
  minute        DATETIME     NOT NULL,
  type          ENUM('debit','credit','transfer') NOT NULL,
  currency      CHAR(3)      CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  status        ENUM('applied','rejected') NOT NULL,
  reason        VARCHAR(64)  NOT NULL DEFAULT '',
  tx_count      BIGINT       NOT NULL DEFAULT 0,
  amount_minor  DECIMAL(38,0) NOT NULL DEFAULT 0,
  PRIMARY KEY (minute, type, currency, status, reason)
) ENGINE=InnoDB;
