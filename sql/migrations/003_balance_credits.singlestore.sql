-- SingleStore variant of 003_balance_credits: incoming transfer credits waiting to be folded into
-- the receiver's balance row by the receiver's own next batch (see the MariaDB file for why).
-- Sharded by account like balances, so a fold reads and deletes on the same leaf as the balance.
CREATE ROWSTORE TABLE IF NOT EXISTS balance_credits (
  account       VARCHAR(64)  CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  currency      CHAR(3)      NOT NULL,
  tx_id         CHAR(36)     CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  amount_minor  BIGINT       NOT NULL,
  created_at    DATETIME(6)  NOT NULL DEFAULT NOW(6),
  PRIMARY KEY (account, currency, tx_id),
  SHARD KEY (account)
);
