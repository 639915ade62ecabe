-- The name of each campaign a push went to, as the API gave it then (SPEC Campaign.name), so the engagement
-- views name the campaigns right after a push: before, `instantly_campaigns` listed ids and
-- `instantly_campaign_name` was NULL until a sync had pulled instantly.campaigns. Once a sync has, its name
-- (the current one) wins. Rewritten by a push only when the campaign is new here or was renamed
-- (warehouse/ledger.record_campaign_name).
CREATE TABLE IF NOT EXISTS ops.pushed_campaigns (
    campaign_id VARCHAR PRIMARY KEY,        -- SPEC Campaign.id (uuid)
    name        VARCHAR NOT NULL,           -- SPEC Campaign.name when the push ran
    seen_at     TIMESTAMPTZ NOT NULL
);
