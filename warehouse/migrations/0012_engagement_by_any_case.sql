-- ops.engagement_by(tbl, col) finds `col` whatever its case (migration 0006 compared names exactly).
--
-- DuckDB's own identifiers ignore case (a table cannot hold both "Company" and "company"), so an analyst
-- writing ops.engagement_by('ops.leads_engagement', 'company') for a column named "Company" meant that one;
-- the exact comparison answered with a binder error listing every column. Same body otherwise.

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
        CAST(COLUMNS(lambda c: lower(c) = lower(col)) AS VARCHAR) AS segment,
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
