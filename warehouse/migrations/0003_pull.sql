-- The pull half: Instantly data as the API returns it (schema `instantly`), merged on natural keys.
-- Every table carries `_hash` (a digest of the row's data columns: a merge rewrites a row, with a new
-- `_loaded_at` and `_run_id`, only when it changed), `_loaded_at` and `_run_id`. See docs/warehouse.md.

CREATE TABLE IF NOT EXISTS instantly.campaigns (
    id                VARCHAR PRIMARY KEY,
    name              VARCHAR,
    status            INTEGER,              -- 0 Draft, 1 Active, 2 Paused, 3 Completed, ... (SPEC Campaign)
    status_label      VARCHAR,
    is_evergreen      BOOLEAN,
    daily_limit       DOUBLE,
    organization      VARCHAR,
    timestamp_created TIMESTAMPTZ,
    timestamp_updated TIMESTAMPTZ,
    data              JSON,                 -- the whole campaign record (schedule, sequences, ...)
    _hash             VARCHAR NOT NULL,
    _loaded_at        TIMESTAMPTZ NOT NULL,
    _run_id           VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS instantly.leads (
    id                              VARCHAR PRIMARY KEY,
    campaign_id                     VARCHAR,
    list_id                         VARCHAR,
    email                           VARCHAR,
    email_normalized                VARCHAR,      -- lower(trim(email)): the join's fallback key
    first_name                      VARCHAR,
    last_name                       VARCHAR,
    company_name                    VARCHAR,
    status                          INTEGER,      -- 1 Active, 2 Paused, 3 Completed, -1 Bounced, -2 Unsubscribed, -3 Skipped
    status_label                    VARCHAR,
    lt_interest_status              INTEGER,      -- NULL = plain "Lead"; custom labels keep their own value
    interest_status_label           VARCHAR,
    email_status                    VARCHAR,      -- derived: not_contacted, sent, opened, clicked, replied, bounced, unsubscribed
    email_open_count                INTEGER,
    email_reply_count               INTEGER,
    email_click_count               INTEGER,
    timestamp_created               TIMESTAMPTZ,
    timestamp_updated               TIMESTAMPTZ,
    timestamp_last_contact          TIMESTAMPTZ,
    timestamp_last_open             TIMESTAMPTZ,
    timestamp_last_reply            TIMESTAMPTZ,
    timestamp_last_click            TIMESTAMPTZ,
    timestamp_last_interest_change  TIMESTAMPTZ,
    verification_status             INTEGER,
    custom_variables                JSON,         -- the lead's `payload`
    _hash                           VARCHAR NOT NULL,
    _loaded_at                      TIMESTAMPTZ NOT NULL,
    _run_id                         VARCHAR NOT NULL
);

-- One snapshot of GET /campaigns/analytics per campaign per sync day (a same-day re-sync updates it).
CREATE TABLE IF NOT EXISTS instantly.campaign_analytics (
    campaign_id                 VARCHAR NOT NULL,
    snapshot_date               DATE NOT NULL,
    campaign_name               VARCHAR,
    campaign_status             INTEGER,
    campaign_is_evergreen       BOOLEAN,
    leads_count                 BIGINT,
    contacted_count             BIGINT,
    new_leads_contacted_count   BIGINT,
    emails_sent_count           BIGINT,
    open_count                  BIGINT,
    open_count_unique           BIGINT,
    reply_count                 BIGINT,
    reply_count_unique          BIGINT,
    reply_count_automatic       BIGINT,
    link_click_count            BIGINT,
    link_click_count_unique     BIGINT,
    bounced_count               BIGINT,
    unsubscribed_count          BIGINT,
    completed_count             BIGINT,
    total_opportunities         BIGINT,
    total_opportunity_value     DOUBLE,
    _hash                       VARCHAR NOT NULL,
    _loaded_at                  TIMESTAMPTZ NOT NULL,
    _run_id                     VARCHAR NOT NULL,
    PRIMARY KEY (campaign_id, snapshot_date)
);

-- GET /campaigns/analytics/daily, one call per campaign: the API's rows carry no campaign id, we stamp it.
CREATE TABLE IF NOT EXISTS instantly.campaign_daily_analytics (
    campaign_id                 VARCHAR NOT NULL,
    date                        DATE NOT NULL,
    sent                        BIGINT,
    contacted                   BIGINT,
    new_leads_contacted         BIGINT,
    opened                      BIGINT,
    unique_opened               BIGINT,
    replies                     BIGINT,
    unique_replies              BIGINT,
    replies_automatic           BIGINT,
    unique_replies_automatic    BIGINT,
    clicks                      BIGINT,
    unique_clicks               BIGINT,
    opportunities               BIGINT,
    unique_opportunities        BIGINT,
    _hash                       VARCHAR NOT NULL,
    _loaded_at                  TIMESTAMPTZ NOT NULL,
    _run_id                     VARCHAR NOT NULL,
    PRIMARY KEY (campaign_id, date)
);

-- Received replies (GET /emails?email_type=received), pulled incrementally on timestamp_created.
CREATE TABLE IF NOT EXISTS instantly.emails (
    id                      VARCHAR PRIMARY KEY,
    timestamp_created       TIMESTAMPTZ,
    timestamp_email         TIMESTAMPTZ,
    campaign_id             VARCHAR,
    lead_id                 VARCHAR,
    lead_email              VARCHAR,
    lead_email_normalized   VARCHAR,
    eaccount                VARCHAR,
    from_address_email      VARCHAR,
    to_address_email_list   VARCHAR,
    subject                 VARCHAR,
    body_text               VARCHAR,
    body_html               VARCHAR,
    content_preview         VARCHAR,
    ue_type                 INTEGER,
    is_auto_reply           INTEGER,
    i_status                INTEGER,
    thread_id               VARCHAR,
    message_id              VARCHAR,
    _hash                   VARCHAR NOT NULL,
    _loaded_at              TIMESTAMPTZ NOT NULL,
    _run_id                 VARCHAR NOT NULL
);

-- Committed sync state, written in the same transaction as the data it describes:
--   stream 'emails', scope '*': the newest timestamp_created loaded (the incremental watermark);
--   stream 'daily_analytics', scope <campaign id>: the last end date pulled (decides backfill vs look-back).
-- In-flight cursor checkpoints of an unfinished sync live beside the warehouse file (docs/warehouse.md).
CREATE TABLE IF NOT EXISTS instantly.sync_checkpoints (
    workspace   VARCHAR NOT NULL,
    stream      VARCHAR NOT NULL,
    scope       VARCHAR NOT NULL,
    value       VARCHAR,
    run_id      VARCHAR NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (workspace, stream, scope)
);
