"""Campaign analytics, overview, daily rows and step rows: all folded from the event history.

Counting rules (the sandbox's reading of the SPEC descriptions):
- `*_count` / daily `sent, opened, replies, clicks`: events in the window, so daily rows sum to the totals.
- `*_unique`: events that were the lead's first of their kind; `*_unique_by_step`: first per lead and step.
- `contacted_count`: distinct leads sent to in the window; `new_leads_contacted_count`: first-ever sends.
- opportunities: first positive interest (Interested, Meeting Booked/Completed, Won) per lead.
Windows are inclusive; a date-only `end_date` covers that whole UTC day; daily buckets are UTC dates.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from ._events import FIRST_FOR_LEAD, FIRST_FOR_STEP, POSITIVE_INTEREST, Event
from ._router import ApiError
from ._state import State
from ._util import parse_when, utc_date

BAD_WINDOW = {"message": "Start Date must be earlier than End Date"}  # SKL-AN: bare {message}


def parse_window(query: dict[str, Any]) -> tuple[int | None, int | None]:
    try:
        start = parse_when(query["start_date"]) if query.get("start_date") else None
        end = parse_when(query["end_date"], end_of_day=True) if query.get("end_date") else None
    except ValueError as exc:
        raise ApiError(400, "Invalid date", {"message": f"Invalid date: {exc}"}) from exc
    if start is not None and end is not None and start > end:
        raise ApiError(400, BAD_WINDOW["message"], dict(BAD_WINDOW))
    return start, end


def _events(state: State, campaign_ids: list[str], start: int | None, end: int | None) -> list[Event]:
    out: list[Event] = []
    for cid in campaign_ids:
        for ev in state.events_by_campaign.get(cid, ()):
            if (start is None or ev.ts >= start) and (end is None or ev.ts <= end):
                out.append(ev)
    return out


class Tally:
    """Counters over a set of events."""

    def __init__(self) -> None:
        self.n: dict[str, int] = defaultdict(int)
        self.contacted: set[str] = set()
        self.opportunity_value = 0.0

    def add(self, ev: Event, pl_value: float = 0.0) -> None:
        n, k = self.n, ev.kind
        first, first_step = bool(ev.first & FIRST_FOR_LEAD), bool(ev.first & FIRST_FOR_STEP)
        if k == "sent":
            n["sent"] += 1
            n["new_contacted"] += first
            self.contacted.add(ev.lead_id or "")
        elif k in ("opened", "clicked", "replied", "auto_reply"):
            n[k] += 1
            n[k + "_u"] += first
            n[k + "_us"] += first_step
        elif k in ("bounced", "unsubscribed", "completed"):
            n[k] += 1
        elif k == "interest":
            value = (ev.data or {}).get("value")
            n[f"interest_{value}"] += 1
            if value in POSITIVE_INTEREST:
                n["opportunities"] += 1
                n["opportunities_u"] += first
                self.opportunity_value += pl_value if first else 0.0


def _counts(t: Tally) -> dict[str, Any]:
    n = t.n
    return {
        "contacted_count": len(t.contacted),
        "emails_sent_count": n["sent"],
        "new_leads_contacted_count": n["new_contacted"],
        "open_count": n["opened"],
        "open_count_unique": n["opened_u"],
        "open_count_unique_by_step": n["opened_us"],
        "reply_count": n["replied"],
        "reply_count_unique": n["replied_u"],
        "reply_count_unique_by_step": n["replied_us"],
        "reply_count_automatic": n["auto_reply"],
        "reply_count_automatic_unique": n["auto_reply_u"],
        "reply_count_automatic_unique_by_step": n["auto_reply_us"],
        "link_click_count": n["clicked"],
        "link_click_count_unique": n["clicked_u"],
        "link_click_count_unique_by_step": n["clicked_us"],
        "bounced_count": n["bounced"],
        "unsubscribed_count": n["unsubscribed"],
        "completed_count": n["completed"],
        "total_opportunities": n["opportunities_u"],
        "total_opportunity_value": t.opportunity_value,
    }


def _pl_value(campaign: dict[str, Any]) -> float:
    return float(campaign.get("pl_value") or 0)


def campaign_rows(state: State, ids: list[str] | None, query: dict[str, Any]) -> list[dict[str, Any]]:
    start, end = parse_window(query)
    rows = []
    for cid in ids if ids else list(state.campaigns):
        campaign = state.campaigns.get(cid)
        if campaign is None or not any(e.kind == "sent" for e in state.events_by_campaign.get(cid, ())):
            continue  # SK-AN: analytics stay [] until the campaign has sent
        tally = Tally()
        for ev in _events(state, [cid], start, end):
            tally.add(ev, _pl_value(campaign))
        leads_count = 0 if query.get("exclude_total_leads_count") else len(state.by_campaign.get(cid, ()))
        rows.append(
            {
                "campaign_name": campaign["name"],
                "campaign_id": cid,
                "campaign_status": campaign["status"],
                "campaign_is_evergreen": bool(campaign.get("is_evergreen")),
                "leads_count": leads_count,
                **_counts(tally),
            }
        )
    return rows


def _select(state: State, ids: list[str] | None, status: Any) -> list[str]:
    chosen = ids if ids else list(state.campaigns)
    return [
        c
        for c in chosen
        if c in state.campaigns and (status is None or state.campaigns[c]["status"] == status)
    ]


def overview(state: State, ids: list[str] | None, query: dict[str, Any]) -> dict[str, Any]:
    start, end = parse_window(query)
    tally = Tally()
    for cid in _select(state, ids, query.get("campaign_status")):
        for ev in _events(state, [cid], start, end):
            tally.add(ev, _pl_value(state.campaigns[cid]))
    out = _counts(tally)
    out.update(
        {
            "total_interested": tally.n["interest_1"],
            "total_meeting_booked": tally.n["interest_2"],
            "total_meeting_completed": tally.n["interest_3"],
            "total_closed": tally.n["interest_4"],
        }
    )
    return out


def daily(state: State, campaign_id: str | None, query: dict[str, Any]) -> list[dict[str, Any]]:
    start, end = parse_window(query)
    ids = _select(state, [campaign_id] if campaign_id else None, query.get("campaign_status"))
    days: dict[str, Tally] = defaultdict(Tally)
    for ev in _events(state, ids, start, end):
        days[utc_date(ev.ts)].add(ev)
    rows = []
    for day in sorted(days):
        n, t = days[day].n, days[day]
        if not any(n.values()):
            continue
        rows.append(
            {
                "date": day,
                "sent": n["sent"],
                "contacted": len(t.contacted),
                "new_leads_contacted": n["new_contacted"],
                "opened": n["opened"],
                "unique_opened": n["opened_u"],
                "replies": n["replied"],
                "unique_replies": n["replied_u"],
                "replies_automatic": n["auto_reply"],
                "unique_replies_automatic": n["auto_reply_u"],
                "clicks": n["clicked"],
                "unique_clicks": n["clicked_u"],
                "opportunities": n["opportunities"],
                "unique_opportunities": n["opportunities_u"],
            }
        )
    return rows


def steps(state: State, campaign_id: str | None, query: dict[str, Any]) -> list[dict[str, Any]]:
    start, end = parse_window(query)
    ids = _select(state, [campaign_id] if campaign_id else None, None)
    groups: dict[tuple[int, int], Tally] = defaultdict(Tally)
    for ev in _events(state, ids, start, end):
        if ev.step is not None and ev.kind != "completed":
            groups[(ev.step, ev.variant or 0)].add(ev)
    rows = []
    for (step, variant), t in sorted(groups.items()):
        n = t.n
        row = {
            "step": str(step),  # SPEC: strings; variant 0-based (0 = A)
            "variant": str(variant),
            "sent": n["sent"],
            "opened": n["opened"],
            "unique_opened": n["opened_us"],
            "replies": n["replied"],
            "unique_replies": n["replied_us"],
            "replies_automatic": n["auto_reply"],
            "unique_replies_automatic": n["auto_reply_us"],
            "clicks": n["clicked"],
            "unique_clicks": n["clicked_us"],
        }
        if query.get("include_opportunities_count"):
            row.update(
                {
                    "opportunities": n["opportunities"],
                    "unique_opportunities": n["opportunities_u"],
                    "meetings_booked": n["interest_2"],
                    "won": n["interest_4"],
                }
            )
        rows.append(row)
    return rows
