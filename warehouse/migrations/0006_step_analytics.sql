-- Per step and A/B variant analytics, and the rate views and macros an analyst starts from.
-- See docs/warehouse.md ("Rates" and "Engagement by any source column") for example queries.

-- GET /campaigns/analytics/steps?campaign_id=...&include_opportunities_count=true, one call per campaign,
-- all-time counts. The API's `step` and `variant` are 0-based strings or null (SPEC; notes C11); here both
-- are 1-based integers like the webhook payloads (instantly.webhook_events), and 0 stands for the API's null
-- ("could not determine the step/variant"), so the natural key has no NULLs.
CREATE TABLE IF NOT EXISTS instantly.campaign_step_analytics (
    campaign_id                 VARCHAR NOT NULL,
    step                        INTEGER NOT NULL,   -- 1 = the first email; 0 = the API sent null
    variant                     INTEGER NOT NULL,   -- 1 = variant A, 2 = B ...; 0 = the API sent null
    variant_label               VARCHAR,            -- 'A', 'B' ...; NULL when the API sent null
    sent                        BIGINT,
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
    meetings_booked             BIGINT,
    won                         BIGINT,
    _hash                       VARCHAR NOT NULL,
    _loaded_at                  TIMESTAMPTZ NOT NULL,
    _run_id                     VARCHAR NOT NULL,
    PRIMARY KEY (campaign_id, step, variant)
);

-- Rates are fractions (0.25 = 25 %), NULL when the denominator is 0.

-- Per campaign, from its latest instantly.campaign_analytics snapshot (all-time totals). The denominator is
-- `leads_contacted` = new_leads_contacted_count (distinct leads sent a first email), not contacted_count:
-- Instantly's contacted_count counts sends per step, so it grows with every follow-up.
CREATE OR REPLACE VIEW ops.campaign_rates AS
WITH latest AS (
    SELECT * FROM instantly.campaign_analytics
    QUALIFY row_number() OVER (PARTITION BY campaign_id ORDER BY snapshot_date DESC) = 1
)
SELECT
    a.campaign_id,
    coalesce(c.name, a.campaign_name) AS campaign_name,
    a.snapshot_date,
    a.leads_count,
    a.new_leads_contacted_count AS leads_contacted,
    a.contacted_count,
    a.emails_sent_count AS emails_sent,
    a.open_count_unique AS opened,
    a.link_click_count_unique AS clicked,
    a.reply_count_unique AS replied,
    a.total_opportunities AS positive_replies,
    a.bounced_count AS bounced,
    a.unsubscribed_count AS unsubscribed,
    a.open_count_unique / nullif(a.new_leads_contacted_count, 0) AS open_rate,
    a.link_click_count_unique / nullif(a.new_leads_contacted_count, 0) AS click_rate,
    a.reply_count_unique / nullif(a.new_leads_contacted_count, 0) AS reply_rate,
    a.total_opportunities / nullif(a.new_leads_contacted_count, 0) AS positive_reply_rate,
    a.bounced_count / nullif(a.new_leads_contacted_count, 0) AS bounce_rate,
    a.unsubscribed_count / nullif(a.new_leads_contacted_count, 0) AS unsubscribe_rate
FROM latest a
LEFT JOIN instantly.campaigns c ON c.id = a.campaign_id;

-- Per campaign and step, all variants together. Each email of a step goes to one lead, so `sent` is also
-- the leads that reached the step; opened/replied/clicked are unique per lead and step.
CREATE OR REPLACE VIEW ops.step_rates AS
SELECT
    s.campaign_id,
    any_value(c.name) AS campaign_name,
    s.step,
    count(*) AS variants,
    sum(s.sent) AS sent,
    sum(s.unique_opened) AS opened,
    sum(s.unique_clicks) AS clicked,
    sum(s.unique_replies) AS replied,
    sum(s.unique_replies_automatic) AS auto_replied,
    sum(s.unique_opportunities) AS positive_replies,
    sum(s.unique_opened) / nullif(sum(s.sent), 0) AS open_rate,
    sum(s.unique_clicks) / nullif(sum(s.sent), 0) AS click_rate,
    sum(s.unique_replies) / nullif(sum(s.sent), 0) AS reply_rate,
    sum(s.unique_opportunities) / nullif(sum(s.sent), 0) AS positive_reply_rate
FROM instantly.campaign_step_analytics s
LEFT JOIN instantly.campaigns c ON c.id = s.campaign_id
GROUP BY s.campaign_id, s.step;

-- Per campaign, step and variant, with the variant's subject from the campaign's sequence and the winner of
-- each step: the best reply rate (then open rate) among its variants that sent, when the step has two or
-- more. No significance test is made: look at `sent` before trusting a small difference.
CREATE OR REPLACE VIEW ops.variant_rates AS
WITH v AS (
    SELECT
        s.campaign_id,
        c.name AS campaign_name,
        s.step,
        s.variant,
        s.variant_label,
        CASE WHEN s.step > 0 AND s.variant > 0 THEN json_extract_string(
            c.data, '$.sequences[0].steps[' || (s.step - 1) || '].variants[' || (s.variant - 1) || '].subject'
        ) END AS subject,
        s.sent,
        s.unique_opened AS opened,
        s.unique_clicks AS clicked,
        s.unique_replies AS replied,
        s.unique_opportunities AS positive_replies,
        s.unique_opened / nullif(s.sent, 0) AS open_rate,
        s.unique_clicks / nullif(s.sent, 0) AS click_rate,
        s.unique_replies / nullif(s.sent, 0) AS reply_rate,
        s.unique_opportunities / nullif(s.sent, 0) AS positive_reply_rate
    FROM instantly.campaign_step_analytics s
    LEFT JOIN instantly.campaigns c ON c.id = s.campaign_id
)
SELECT
    *,
    count(*) FILTER (WHERE sent > 0) OVER (PARTITION BY campaign_id, step) >= 2
        AND sent > 0
        AND row_number() OVER (
            PARTITION BY campaign_id, step
            ORDER BY (sent > 0) DESC, reply_rate DESC NULLS LAST, open_rate DESC NULLS LAST, variant
        ) = 1 AS is_winner
FROM v;

-- Reply rate (and the rest of the funnel) by any column of an engagement view:
--   SELECT * FROM ops.engagement_by('ops.prospects_engagement', 'Industry');
-- `tbl` is any relation with the engagement columns (ops.<table>_engagement, ..._engagement_by_campaign, a
-- view of your own adding a bucket column); `col` is one column's exact name. Rates are over the rows
-- contacted (instantly_email_status other than not_contacted).
CREATE OR REPLACE MACRO ops.engagement_by(tbl, col) AS TABLE
SELECT
    segment,
    count(*) AS "rows",
    count(*) FILTER (WHERE contacted) AS contacted,
    count(*) FILTER (WHERE instantly_open_count > 0) AS opened,
    count(*) FILTER (WHERE instantly_reply_count > 0) AS replied,
    count(*) FILTER (WHERE positive) AS positive_replies,
    count(*) FILTER (WHERE instantly_email_status = 'bounced') AS bounced,
    count(*) FILTER (WHERE instantly_open_count > 0) / nullif(count(*) FILTER (WHERE contacted), 0) AS open_rate,
    count(*) FILTER (WHERE instantly_reply_count > 0) / nullif(count(*) FILTER (WHERE contacted), 0)
        AS reply_rate,
    count(*) FILTER (WHERE positive) / nullif(count(*) FILTER (WHERE contacted), 0) AS positive_reply_rate,
    count(*) FILTER (WHERE instantly_email_status = 'bounced') / nullif(count(*) FILTER (WHERE contacted), 0)
        AS bounce_rate
FROM (
    SELECT
        CAST(COLUMNS(lambda c: c = col) AS VARCHAR) AS segment,
        instantly_email_status,
        instantly_open_count,
        instantly_reply_count,
        coalesce(instantly_email_status, 'not_contacted') <> 'not_contacted' AS contacted,
        coalesce(instantly_interest_status IN ('Interested', 'Meeting Booked', 'Meeting Completed', 'Won'), false)
            AS positive
    FROM query_table(tbl)
)
GROUP BY segment
ORDER BY reply_rate DESC NULLS LAST, "rows" DESC, segment;

-- Company-size buckets for a numeric column: SELECT ops.size_bucket("Employees") ...
CREATE OR REPLACE MACRO ops.size_bucket(n) AS
    CASE
        WHEN n IS NULL THEN NULL
        WHEN n <= 10 THEN '1-10'
        WHEN n <= 50 THEN '11-50'
        WHEN n <= 200 THEN '51-200'
        WHEN n <= 1000 THEN '201-1000'
        ELSE '1001+'
    END;
