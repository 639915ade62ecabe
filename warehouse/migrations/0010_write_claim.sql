-- The claim every keyed write makes first (warehouse/merge.py): one row, rewritten by each transaction that
-- merges, upserts or inserts on a natural key. On a DuckLake, which has no PRIMARY KEY to stop two writers
-- inserting the same key, two such transactions conflict and one is run again, seeing the other's rows.
-- On a DuckDB file the warehouse lock already serialises writers; the claim costs one row update there.
CREATE TABLE IF NOT EXISTS ops.write_claim (
    claims      BIGINT NOT NULL,        -- keyed write transactions committed so far
    claimed_at  TIMESTAMPTZ             -- when the last one ran
);
INSERT INTO ops.write_claim SELECT 0, NULL WHERE NOT EXISTS (SELECT 1 FROM ops.write_claim);
