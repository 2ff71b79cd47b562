-- The seed's schema, kept only as the query benchmark's baseline (never migrated into a real
-- database): money as DOUBLE, PRIMARY KEY(id, account), no secondary indexes, no rollups.
CREATE TABLE transactions (
  id            VARCHAR(36)  NOT NULL,
  account       VARCHAR(64)  NOT NULL,
  counterparty  VARCHAR(64)  NULL,
  type          VARCHAR(16)  NOT NULL,
  amount        DOUBLE       NOT NULL,
  currency      VARCHAR(3)   NOT NULL,
  status        VARCHAR(16)  NOT NULL,
  reason        VARCHAR(64)  NULL,
  description   VARCHAR(140) NULL,
  occurred_at   DATETIME(3)  NOT NULL,
  ingested_at   DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  source_partition INT       NOT NULL,
  source_offset BIGINT       NOT NULL,
  batch_id      VARCHAR(128) NOT NULL,
  PRIMARY KEY (id, account)
) ENGINE=InnoDB;

CREATE TABLE balances (
  account       VARCHAR(64)  NOT NULL,
  currency      VARCHAR(3)   NOT NULL,
  balance       DOUBLE       NOT NULL DEFAULT 0,
  PRIMARY KEY (account, currency)
) ENGINE=InnoDB;
