-- Schemas: `instantly` holds data as the API returns it; `ops` the source tables and what we derive.
CREATE SCHEMA IF NOT EXISTS instantly;
CREATE SCHEMA IF NOT EXISTS ops;

-- The sync history: one row per push or sync run.
CREATE TABLE IF NOT EXISTS ops.sync_runs (
    run_id      VARCHAR PRIMARY KEY,
    flow        VARCHAR NOT NULL,
    started_at  TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ,
    status      VARCHAR NOT NULL,      -- running | completed | failed
    counts      JSON,                  -- rows per table, outcomes per kind ...
    message     VARCHAR
);
