-- Incoming transfer credits waiting to be folded into the receiver's balance row.
--
-- A transfer debits the sender (a key of the batch's own partition, locked by that batch) and
-- credits a counterparty that usually belongs to another partition. Updating the counterparty's
-- balance row in place took its row lock for the whole batch transaction, so every batch that paid
-- a popular account queued behind every other one (issue 5: 9-10 of 12 batch transactions were in
-- LOCK WAIT on balances at any moment). The credit is written here instead, one immutable row per
-- transaction, which no other batch ever locks; the receiver's own next batch, which holds its
-- balance lock anyway, reads these rows, moves them into balances and deletes them, in its
-- transaction. An account's balance is always balances.balance_minor plus its rows here.
CREATE TABLE IF NOT EXISTS balance_credits (
  account       VARCHAR(64)  CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  currency      CHAR(3)      CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  tx_id         CHAR(36)     CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  amount_minor  BIGINT       NOT NULL,
  created_at    DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  PRIMARY KEY (account, currency, tx_id),
  CONSTRAINT ck_credit_positive CHECK (amount_minor > 0)
) ENGINE=InnoDB;
