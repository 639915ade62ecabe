-- The push half: extracted source tables, the exactly-once push ledger and per-row push results.

-- One row per extracted source table (`ops.<table_name>`), replaced on each extract.
CREATE TABLE IF NOT EXISTS ops.source_tables (
    table_name   VARCHAR PRIMARY KEY,   -- snake_case name of ops.<table_name>
    source       VARCHAR NOT NULL,      -- path or URI, never with a password
    key_column   VARCHAR,               -- the --key column, NULL when the row key is the normalised email
    email_column VARCHAR NOT NULL,
    row_count    BIGINT NOT NULL,
    extracted_at TIMESTAMPTZ NOT NULL,
    run_id       VARCHAR NOT NULL
);

-- The intent log that makes pushes exactly-once. A row is written `pending` (with its batch id) before the
-- request that carries it is sent, then moved to `done` (lead id known), `rejected` (the API or our validation
-- refused it; retried once its data changes) or `unknown` (timeout/5xx after sending: reconciled by looking the
-- email up in the campaign before anything is resent). `sent` is reserved for future use.
CREATE TABLE IF NOT EXISTS ops.push_ledger (
    workspace    VARCHAR NOT NULL,      -- secret-free workspace name (InstantlyCredentials.workspace_key)
    campaign_id  VARCHAR NOT NULL,
    source_table VARCHAR NOT NULL,
    row_key      VARCHAR NOT NULL,      -- ops.<source_table>._row_key
    email        VARCHAR,               -- normalised email sent
    lead_id      VARCHAR,               -- Instantly lead id once known
    payload_hash VARCHAR,               -- sha256 of the lead payload last sent (NULL: re-send on next run)
    state        VARCHAR NOT NULL,      -- pending | sent | unknown | done | rejected
    outcome      VARCHAR,               -- last outcome (created, updated, duplicate, skipped, blocklisted ...)
    batch_id     VARCHAR,
    run_id       VARCHAR,
    updated_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (workspace, campaign_id, source_table, row_key)
);

-- What happened to every source row on every push run (append-only).
CREATE TABLE IF NOT EXISTS ops.push_results (
    run_id       VARCHAR NOT NULL,
    source_table VARCHAR NOT NULL,
    row_key      VARCHAR,
    email        VARCHAR,
    campaign_id  VARCHAR NOT NULL,
    lead_id      VARCHAR,
    outcome      VARCHAR NOT NULL,      -- created|updated|unchanged|duplicate|skipped|blocklisted|invalid|rejected
    reason       VARCHAR,
    "at"         TIMESTAMPTZ NOT NULL   -- quoted: AT is a keyword in DuckDB
);
