-- Webhook deliveries now reach the warehouse through the spool and the ingest flow (ingest_webhook_events).
-- From this version event_key is a content hash (sha256 of the payload's canonical JSON, 32 hex characters):
-- a re-delivery, or the same payload recovered from Instantly's delivery log, lands once.
ALTER TABLE instantly.webhook_events ADD COLUMN IF NOT EXISTS source VARCHAR;      -- receiver | delivery_log
ALTER TABLE instantly.webhook_events ADD COLUMN IF NOT EXISTS _loaded_at TIMESTAMPTZ;
ALTER TABLE instantly.webhook_events ADD COLUMN IF NOT EXISTS _run_id VARCHAR;

-- The catch-up's watermark per workspace: the newest failed delivery (SPEC GET /webhook-events,
-- WebhookEvent.timestamp_created) already recovered from the delivery log.
CREATE TABLE IF NOT EXISTS ops.webhook_catchup (
    workspace           VARCHAR PRIMARY KEY,   -- the workspace id (SPEC GET /workspaces/current), as the ledger
    last_event_created  TIMESTAMPTZ NOT NULL,
    checked_at          TIMESTAMPTZ NOT NULL,
    recovered           BIGINT NOT NULL        -- events recovered over all runs (new rows only)
);
