-- Webhook deliveries received from Instantly (near-real-time replies, opens, bounces ...).
-- Instantly sends no event id and may deliver twice: event_key is a hash of
-- (event_type, email_id or lead_email, timestamp), as the official starter kit suggests.
CREATE TABLE IF NOT EXISTS instantly.webhook_events (
    event_key      VARCHAR PRIMARY KEY,
    event_type     VARCHAR NOT NULL,   -- as delivered: link_clicked, auto_reply_received, a custom label ...
    event_kind     VARCHAR NOT NULL,   -- the subscription name: email_link_clicked, reply_received ...
    event_at       TIMESTAMPTZ,
    campaign_id    VARCHAR,
    campaign_name  VARCHAR,
    lead_email     VARCHAR,
    email_account  VARCHAR,
    email_id       VARCHAR,
    step           INTEGER,
    variant        INTEGER,
    reply_subject  VARCHAR,
    reply_text     VARCHAR,
    payload        JSON NOT NULL,
    received_at    TIMESTAMPTZ NOT NULL
);
