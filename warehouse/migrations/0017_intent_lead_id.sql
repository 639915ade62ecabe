-- An intent keeps the lead id of the lead it updates (NULL for an add), as the entries do.
--
-- Without it an update's intent read as an add's: after a push killed mid-update, the next run looked the
-- row up by email, found the lead (it existed long before) and settled the row `created` with the new
-- payload's hash, so the PATCH that never left was never sent and the lead kept its old values. With the
-- lead id, the next run's reconcile sends an open update again (PATCH is idempotent: tasks/push_reconcile.py).
-- Intents written before this migration have NULL here, as before.
ALTER TABLE ops.push_ledger_intents ADD COLUMN IF NOT EXISTS lead_id VARCHAR;

CREATE OR REPLACE VIEW ops.push_ledger AS
SELECT workspace, campaign_id, source_table, row_key, email, lead_id, payload_hash, state, outcome, batch_id,
    run_id, updated_at
FROM (
    SELECT w.workspace, w.campaign_id, w.source_table, e.row_key, e.email, e.lead_id, e.payload_hash, e.state,
        e.outcome, e.batch_id, w.run_id, w."at" AS updated_at,
        row_number() OVER (
            PARTITION BY w.workspace, w.campaign_id, w.source_table, e.row_key ORDER BY e.write_id DESC
        ) AS newest
    FROM (
        SELECT write_id, row_key, email, lead_id, payload_hash, state, outcome, batch_id
        FROM ops.push_ledger_entries
        UNION ALL
        SELECT write_id, row_key, email, lead_id, payload_hash, 'pending', CAST(NULL AS VARCHAR), batch_id
        FROM ops.push_ledger_intents
    ) e JOIN ops.push_ledger_writes w ON w.write_id = e.write_id
)
WHERE newest = 1 AND state <> 'forgotten';
