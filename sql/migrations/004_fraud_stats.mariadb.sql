-- Compact account statistics (issue 7): the detector's per-account state as a fixed binary layout
-- (src/domain/fraud/statsCodec.ts, at most 786 bytes, about 200 with an empty burst ring) instead
-- of JSON text in `state`, which cost a JSON parse and serialise per account per batch and
-- doubled the upsert. Rows written before this keep their JSON `state` (stats NULL) and are read
-- from it until the account's next transaction rewrites the row in the new form (state = '').
-- A nullable column added at the end: instant in MariaDB, no table copy.
ALTER TABLE account_stats ADD COLUMN stats VARBINARY(1024) NULL;
