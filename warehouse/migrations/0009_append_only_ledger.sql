-- The push ledger becomes append-only (warehouse/ledger.py is its one home).
--
-- Before: ops.push_ledger was a table with a primary key, rewritten row by row with INSERT OR REPLACE
-- (about 5 us a row for the pending intent and again for the outcome). Now every ledger write appends: one
-- row to ops.push_ledger_writes (whose rows: workspace, campaign, source table; which run; when) and one
-- entry per source row to ops.push_ledger_entries. A row's state is its newest entry (highest write_id).
-- Nothing here needs a primary key or an upsert, so the same tables work on DuckLake. Superseded entries
-- are deleted after each push (ledger.compact).
--
-- ops.push_ledger stays, as a view of the current state (one row per source row and campaign): what
-- analysts, the engagement views and the sync's lead ids read.

CREATE TABLE IF NOT EXISTS ops.push_ledger_writes (
    write_id     BIGINT NOT NULL,       -- one per ledger transaction, increasing: newer entries win
    workspace    VARCHAR NOT NULL,      -- the workspace id (SPEC GET /workspaces/current)
    campaign_id  VARCHAR NOT NULL,
    source_table VARCHAR NOT NULL,
    run_id       VARCHAR,
    "at"         TIMESTAMPTZ NOT NULL
);

-- One entry per source row and ledger write. state: pending (intent: written and committed before the
-- request carrying the row leaves), unknown (timeout/5xx after sending: looked up in the campaign before
-- anything is resent), done (lead id known), rejected (refused by the API or our validation: retried once
-- its data changes), forgotten (the request provably never took effect: the row counts as never pushed).
CREATE TABLE IF NOT EXISTS ops.push_ledger_entries (
    write_id     BIGINT NOT NULL,       -- ops.push_ledger_writes.write_id
    row_key      VARCHAR NOT NULL,      -- ops.<source_table>._row_key
    email        VARCHAR,               -- normalised email sent
    lead_id      VARCHAR,               -- Instantly lead id once known
    payload_hash VARCHAR,               -- sha256 of the lead payload last sent (NULL: re-send on next run)
    state        VARCHAR NOT NULL,      -- pending | unknown | done | rejected | forgotten
    outcome      VARCHAR,               -- last outcome (created, updated, duplicate, skipped, blocklisted ...)
    batch_id     VARCHAR
);

-- Old ledger rows: one write per (workspace, campaign, source table, run), in the order they were written.
INSERT INTO ops.push_ledger_writes
SELECT row_number() OVER (ORDER BY max(updated_at), workspace, campaign_id, source_table, run_id),
    workspace, campaign_id, source_table, run_id, max(updated_at)
FROM ops.push_ledger
GROUP BY workspace, campaign_id, source_table, run_id;

INSERT INTO ops.push_ledger_entries
SELECT w.write_id, l.row_key, l.email, l.lead_id, l.payload_hash,
    -- `sent` was reserved and never written; had it been, it meant "may have reached Instantly".
    CASE WHEN l.state = 'sent' THEN 'unknown' ELSE l.state END, l.outcome, l.batch_id
FROM ops.push_ledger l
JOIN ops.push_ledger_writes w
    ON w.workspace = l.workspace AND w.campaign_id = l.campaign_id AND w.source_table = l.source_table
    AND w.run_id IS NOT DISTINCT FROM l.run_id;

DROP TABLE ops.push_ledger;

CREATE VIEW ops.push_ledger AS
SELECT workspace, campaign_id, source_table, row_key, email, lead_id, payload_hash, state, outcome, batch_id,
    run_id, updated_at
FROM (
    SELECT w.workspace, w.campaign_id, w.source_table, e.row_key, e.email, e.lead_id, e.payload_hash, e.state,
        e.outcome, e.batch_id, w.run_id, w."at" AS updated_at,
        row_number() OVER (
            PARTITION BY w.workspace, w.campaign_id, w.source_table, e.row_key ORDER BY e.write_id DESC
        ) AS newest
    FROM ops.push_ledger_entries e JOIN ops.push_ledger_writes w ON w.write_id = e.write_id
)
WHERE newest = 1 AND state <> 'forgotten';
