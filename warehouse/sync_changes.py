"""What changed in engagement since the last sync: new replies, bounces, unsubscribes, interested leads.

Computed inside the load transaction, before the merge, by comparing what was pulled with what the
warehouse held: a lead counts as newly bounced when it is Bounced now and was not before (or was not in
the warehouse), and so on. The numbers go to ops.sync_runs.counts["engagement"] and the sync's artifact.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC
from typing import Any

import duckdb
import polars as pl

from ops_core.engagement import LEAD_STATUS_BOUNCED, LEAD_STATUS_UNSUBSCRIBED

__all__ = ["CHANGE_KEYS", "POSITIVE_INTEREST", "engagement_changes"]

# SPEC Lead.lt_interest_status: 1 Interested, 2 Meeting Booked, 3 Meeting Completed, 4 Won.
POSITIVE_INTEREST = (1, 2, 3, 4)
# The counts, in the order the artifact shows them: reply emails new to the warehouse (auto-replies apart),
# then leads whose first reply this is, now Bounced, now Unsubscribed, now positive (POSITIVE_INTEREST).
CHANGE_KEYS = (
    "replies",
    "auto_replies",
    "leads_replied",
    "leads_bounced",
    "leads_unsubscribed",
    "leads_interested",
)


def engagement_changes(
    con: duckdb.DuckDBPyConnection,
    leads: Sequence[Mapping[str, Any]],
    emails: Sequence[Mapping[str, Any]],
    campaign_names: Mapping[str, str | None],
) -> dict[str, Any]:
    """Changes between the warehouse (before the merge) and the pulled rows, in total and per campaign.

    Args:
        con: a connection inside the load's transaction, before instantly.leads/emails are merged.
        leads: instantly.leads rows as pulled.
        emails: instantly.emails rows as pulled (received replies).
        campaign_names: campaign id -> name, for the per-campaign rows.

    Returns:
        `{"total": {key: n}, "campaigns": [{"campaign_id", "campaign_name", key: n ...}], "since": ISO
        time of the last completed sync or None}` with the keys of `CHANGE_KEYS`; campaigns with no change
        are left out.
    """
    lead_frame = pl.DataFrame(
        [
            {
                "id": r["id"],
                "campaign_id": r.get("campaign_id"),
                "status": r.get("status"),
                "interest": r.get("lt_interest_status"),
                "replies": r.get("email_reply_count") or 0,
            }
            for r in leads
        ],
        schema={
            "id": pl.Utf8,
            "campaign_id": pl.Utf8,
            "status": pl.Int64,
            "interest": pl.Int64,
            "replies": pl.Int64,
        },
    )
    email_frame = pl.DataFrame(
        [
            {"id": r["id"], "campaign_id": r.get("campaign_id"), "auto": r.get("is_auto_reply")}
            for r in emails
        ],
        schema={"id": pl.Utf8, "campaign_id": pl.Utf8, "auto": pl.Int64},
    )
    positive = ", ".join(str(v) for v in POSITIVE_INTEREST)
    con.register("_pulled_leads", lead_frame)
    con.register("_pulled_emails", email_frame)
    try:
        rows = con.execute(
            f"""
            WITH lead_changes AS (
                SELECT p.campaign_id,
                    count(*) FILTER (p.replies > 0 AND coalesce(o.email_reply_count, 0) = 0) AS leads_replied,
                    count(*) FILTER (p.status = {LEAD_STATUS_BOUNCED}
                        AND o.status IS DISTINCT FROM {LEAD_STATUS_BOUNCED}) AS leads_bounced,
                    count(*) FILTER (p.status = {LEAD_STATUS_UNSUBSCRIBED}
                        AND o.status IS DISTINCT FROM {LEAD_STATUS_UNSUBSCRIBED}) AS leads_unsubscribed,
                    count(*) FILTER (p.interest IN ({positive})
                        AND coalesce(o.lt_interest_status IN ({positive}), false) = false) AS leads_interested
                FROM _pulled_leads p LEFT JOIN instantly.leads o ON o.id = p.id
                GROUP BY p.campaign_id
            ),
            email_changes AS (
                SELECT e.campaign_id,
                    count(*) FILTER (coalesce(e.auto, 0) = 0) AS replies,
                    count(*) FILTER (coalesce(e.auto, 0) <> 0) AS auto_replies
                FROM _pulled_emails e
                WHERE e.id NOT IN (SELECT id FROM instantly.emails)
                GROUP BY e.campaign_id
            )
            SELECT coalesce(l.campaign_id, e.campaign_id) AS campaign_id,
                coalesce(e.replies, 0), coalesce(e.auto_replies, 0), coalesce(l.leads_replied, 0),
                coalesce(l.leads_bounced, 0), coalesce(l.leads_unsubscribed, 0),
                coalesce(l.leads_interested, 0)
            FROM lead_changes l FULL JOIN email_changes e ON e.campaign_id IS NOT DISTINCT FROM l.campaign_id
            """
        ).fetchall()
    finally:
        con.unregister("_pulled_leads")
        con.unregister("_pulled_emails")
    keys = list(CHANGE_KEYS)
    total = dict.fromkeys(keys, 0)
    per_campaign = []
    for campaign_id, *values in rows:
        numbers = {k: int(v) for k, v in zip(keys, values, strict=True)}
        for k, v in numbers.items():
            total[k] += v
        if any(numbers.values()):
            name = campaign_names.get(campaign_id) if campaign_id else None
            per_campaign.append({"campaign_id": campaign_id, "campaign_name": name, **numbers})
    per_campaign.sort(key=lambda r: (str(r["campaign_name"] or r["campaign_id"] or "")).lower())
    last = con.execute(
        "SELECT max(finished_at) FROM ops.sync_runs WHERE flow = 'sync-engagement' AND status = 'completed'"
    ).fetchone()
    since = last[0].astimezone(UTC).isoformat() if last and last[0] is not None else None
    return {"total": total, "campaigns": per_campaign, "since": since}
