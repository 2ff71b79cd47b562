-- SingleStore variant of 005_coarse_rollups: same columns and semantics. rollup_day is tiny and
-- keyed like rollup_minute; rollup_account_day is sharded by account (its primary key contains it).
CREATE ROWSTORE TABLE IF NOT EXISTS rollup_day (
  day           DATE         NOT NULL,
  type          ENUM('debit','credit','transfer') NOT NULL,
  currency      CHAR(3)      NOT NULL,
  status        ENUM('applied','rejected') NOT NULL,
  reason        VARCHAR(64)  NOT NULL DEFAULT '',
  tx_count      BIGINT       NOT NULL DEFAULT 0,
  amount_minor  DECIMAL(38,0) NOT NULL DEFAULT 0,
  PRIMARY KEY (day, type, currency, status, reason)
);

CREATE ROWSTORE TABLE IF NOT EXISTS rollup_account_day (
  day           DATE         NOT NULL,
  currency      CHAR(3)      NOT NULL,
  account       VARCHAR(64)  CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  tx_count      BIGINT       NOT NULL DEFAULT 0,
  rejected_count BIGINT      NOT NULL DEFAULT 0,
  applied_minor DECIMAL(38,0) NOT NULL DEFAULT 0,
  PRIMARY KEY (day, currency, account),
  KEY ix_day_rank (day, currency, applied_minor),
  SHARD KEY (account)
);
