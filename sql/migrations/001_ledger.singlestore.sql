-- SingleStore variant of 001_ledger: same columns and semantics, distributed by account.
-- Unique keys must contain the shard key, so uniqueness is (account, id); a transaction id is
-- bound to one account by construction (the producer chooses both), so this is still one row per id.
CREATE TABLE IF NOT EXISTS transactions (
  id            CHAR(36)     CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  account       VARCHAR(64)  CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  counterparty  VARCHAR(64)  CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL,
  type          ENUM('debit','credit','transfer') NOT NULL,
  amount_minor  BIGINT       NOT NULL,
  currency      CHAR(3)      NOT NULL,
  status        ENUM('applied','rejected') NOT NULL,
  reason        VARCHAR(64)  NULL,
  description   VARCHAR(140) NULL,
  occurred_at   DATETIME(6)  NOT NULL,
  ingested_at   DATETIME(6)  NOT NULL DEFAULT NOW(6),
  source_partition INT       NOT NULL,
  source_offset BIGINT       NOT NULL,
  batch_id      VARCHAR(128) NOT NULL,
  UNIQUE KEY uk_account_id (account, id) USING HASH,
  KEY ix_id (id) USING HASH,
  KEY ix_counterparty (counterparty) USING HASH,
  SHARD KEY (account),
  SORT KEY (occurred_at)
);

CREATE ROWSTORE TABLE IF NOT EXISTS balances (
  account       VARCHAR(64)  CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  currency      CHAR(3)      NOT NULL,
  balance_minor BIGINT       NOT NULL DEFAULT 0,
  version       BIGINT       NOT NULL DEFAULT 0,
  updated_at    DATETIME(6)  NOT NULL DEFAULT NOW(6) ON UPDATE NOW(6),
  PRIMARY KEY (account, currency),
  SHARD KEY (account)
);

CREATE ROWSTORE TABLE IF NOT EXISTS rollup_minute (
  minute        DATETIME     NOT NULL,
  type          ENUM('debit','credit','transfer') NOT NULL,
  currency      CHAR(3)      NOT NULL,
  status        ENUM('applied','rejected') NOT NULL,
  reason        VARCHAR(64)  NOT NULL DEFAULT '',
  tx_count      BIGINT       NOT NULL DEFAULT 0,
  amount_minor  DECIMAL(38,0) NOT NULL DEFAULT 0,
  PRIMARY KEY (minute, type, currency, status, reason)
);
