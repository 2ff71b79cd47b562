-- SingleStore variant of 004_fraud_stats: the same nullable binary column on the rowstore
-- account_stats table (sharded by account, unchanged). Rows with stats NULL are read from their
-- JSON `state` until rewritten.
ALTER TABLE account_stats ADD COLUMN stats VARBINARY(1024) NULL;
