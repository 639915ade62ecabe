-- Connections: which source table feeds which Instantly campaigns (`ops-instantly connect-table`).
-- Scheduled push and sync runs read this table, so they need no arguments.
CREATE TABLE IF NOT EXISTS ops.connections (
    table_name    VARCHAR NOT NULL,      -- the Ops table, as given to --table (e.g. ops.prospects)
    campaign_id   VARCHAR NOT NULL,      -- validated against the API when the connection was made
    campaign_name VARCHAR NOT NULL,      -- the name at that time (display only; the id is the key)
    source        VARCHAR,               -- where the table is read from (NULL: the warehouse itself)
    key_column    VARCHAR,               -- the table's key column (NULL: the push default)
    mapping       JSON,                  -- column mapping (the --mapping file's content), or NULL
    created_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (table_name, campaign_id)
);
