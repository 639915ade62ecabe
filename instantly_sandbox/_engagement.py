"""Engagement simulation: active campaigns send on their schedule and leads react, as events.

`simulate(state, until)` walks simulated time in ticks (`tick_minutes`, default 10). At each tick it first
applies queued engagement whose time has come (opens, clicks, replies, bounces...), then lets each active
campaign send inside its schedule window (days "0"=Sunday.."6", timing from/to in the schedule's timezone,
start/end dates), within its daily cap, due follow-ups first (new leads first with `prioritize_new_leads`).
Each send draws the lead's reactions with the seeded RNG and queues them in the future; nothing is stored that
is not an event, so lead fields and analytics always agree.
"""

from __future__ import annotations

import heapq
import math
import re
from datetime import datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from ._state import State
from ._util import MS_PER_DAY, MS_PER_HOUR, MS_PER_MINUTE

DELAY_UNIT_MS = {"minutes": MS_PER_MINUTE, "hours": MS_PER_HOUR, "days": MS_PER_DAY}
REPLY_TEXTS = [
    "Thanks for reaching out - happy to chat next week.",
    "Not interested, please remove me from your list.",
    "Can you send more details about pricing?",
    "I'm not the right person, try our ops lead.",
    "Sounds interesting. What times work for a call?",
]
AUTO_REPLY_TEXT = "I am out of the office with limited access to email and will reply when I am back."
_VAR = re.compile(r"\{\{\s*(\w+)\s*\}\}")


@cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def sim(campaign: dict[str, Any]) -> dict[str, Any]:
    """The campaign's internal sending state (not part of the API shape)."""
    internal: dict[str, Any] = campaign.setdefault(
        "_sim", {"queue": [], "pos": 0, "followups": [], "sent_by_day": {}, "new_by_day": {}, "rr": 0}
    )
    return internal


def enqueue_new_lead(campaign: dict[str, Any], lead: dict[str, Any]) -> None:
    lead["_next_step"] = 0
    lead["_stopped"] = False
    sim(campaign)["queue"].append(lead["id"])


def enqueue_fresh_leads(campaign: dict[str, Any], ids: list[str]) -> None:
    """:func:`enqueue_new_lead` for each of the leads `ids`, in order, when they were just built (a lead
    template holds `_next_step` 0 and `_stopped` False already)."""
    sim(campaign)["queue"].extend(ids)


def steps_of(campaign: dict[str, Any]) -> list[dict[str, Any]]:
    seqs = campaign.get("sequences") or []
    return (seqs[0].get("steps") or []) if seqs else []  # SPEC: only the first sequence is used


def senders(state: State, campaign: dict[str, Any]) -> list[dict[str, Any]]:
    """Sender accounts: the campaign's `email_list`; an empty list means every workspace account (sandbox)."""
    wanted = campaign.get("email_list") or list(state.accounts)
    return [state.accounts[e] for e in wanted if e in state.accounts and state.accounts[e].get("status") == 1]


def window(campaign: dict[str, Any], t: int) -> tuple[str, int] | None:
    """(local date, minutes left in the window) when `t` is inside a schedule window, else None."""
    sched = campaign.get("campaign_schedule") or {}
    for s in sched.get("schedules") or []:
        local = datetime.fromtimestamp(t / 1000, _zone(s["timezone"]))
        day = local.date().isoformat()
        if (sched.get("start_date") and day < sched["start_date"]) or (
            sched.get("end_date") and day > sched["end_date"]
        ):
            continue
        if not s["days"].get(str((local.weekday() + 1) % 7)):  # "0" = Sunday
            continue
        start = int(s["timing"]["from"][:2]) * 60 + int(s["timing"]["from"][3:])
        end = int(s["timing"]["to"][:2]) * 60 + int(s["timing"]["to"][3:])
        now = local.hour * 60 + local.minute
        if start <= now < end:
            return day, end - now
    return None


def has_work(campaign: dict[str, Any]) -> bool:
    s = sim(campaign)
    return s["pos"] < len(s["queue"]) or bool(s["followups"])


def simulate(state: State, until: int) -> None:
    tick = max(1, int(state.config.get("tick_minutes", 10))) * MS_PER_MINUTE
    t = (state.processed_until // tick + 1) * tick
    while t <= until:
        flush(state, t)
        busy = [c for c in state.campaigns.values() if c["status"] == 1 and has_work(c)]
        if not busy:
            break  # nothing left to send; queued reactions are applied below
        for campaign in busy:
            _tick(state, campaign, t, tick)
        t += tick
    flush(state, until)
    state.processed_until = max(state.processed_until, until)
    _complete_campaigns(state, until)


def flush(state: State, until: int) -> None:
    while state.pending and state.pending[0][0] <= until:
        ts, _, kind, lead_id, campaign_id, step, variant, data = heapq.heappop(state.pending)
        lead = state.leads.get(lead_id)
        if lead is None or lead.get("campaign") != campaign_id:
            continue  # deleted or moved away before this happened
        state.append_event(ts, kind, lead_id, campaign_id, step, variant, data)
        campaign = state.campaigns.get(campaign_id) or {}
        stops = (
            kind in ("bounced", "unsubscribed")
            or (kind == "replied" and campaign.get("stop_on_reply", True) is not False)
            or (kind == "auto_reply" and campaign.get("stop_on_auto_reply"))
        )
        if stops and not lead.get("_stopped"):
            lead["_stopped"] = True
            if kind in ("replied", "auto_reply") and lead["status"] == 1:
                state.append_event(ts, "completed", lead_id, campaign_id, step, variant)


def _tick(state: State, campaign: dict[str, Any], t: int, tick: int) -> None:
    where = window(campaign, t)
    accounts = senders(state, campaign)
    if where is None or not accounts or not steps_of(campaign):
        return
    day, minutes_left = where
    s = sim(campaign)
    cap = campaign.get("daily_limit") or sum(a.get("daily_limit") or 0 for a in accounts)
    remaining = int(cap) - s["sent_by_day"].get(day, 0)
    if remaining <= 0:
        return
    allowance = math.ceil(remaining / max(1, math.ceil(minutes_left * MS_PER_MINUTE / tick)))
    batch: list[tuple[str, int]] = []
    take = (
        [_take_new, _take_followups] if campaign.get("prioritize_new_leads") else [_take_followups, _take_new]
    )
    for taker in take:
        taker(state, campaign, s, t, day, allowance, batch)
    for i, (lead_id, step) in enumerate(batch):
        _send(state, campaign, state.leads[lead_id], step, t + i * tick // len(batch), accounts)
    s["sent_by_day"][day] = s["sent_by_day"].get(day, 0) + len(batch)


def _take_followups(
    state: State,
    campaign: dict[str, Any],
    s: dict[str, Any],
    t: int,
    day: str,
    allowance: int,
    batch: list[tuple[str, int]],
) -> None:
    heap = s["followups"]
    while heap and heap[0][0] <= t and len(batch) < allowance:
        _, lead_id, step = heapq.heappop(heap)
        lead = state.leads.get(lead_id)
        if lead and lead.get("campaign") == campaign["id"] and lead.get("_next_step") == step and _live(lead):
            batch.append((lead_id, step))


def _take_new(
    state: State,
    campaign: dict[str, Any],
    s: dict[str, Any],
    t: int,
    day: str,
    allowance: int,
    batch: list[tuple[str, int]],
) -> None:
    max_new = campaign.get("daily_max_leads") or math.inf
    queue = s["queue"]
    while s["pos"] < len(queue) and len(batch) < allowance and s["new_by_day"].get(day, 0) < max_new:
        lead_id = queue[s["pos"]]
        s["pos"] += 1
        lead = state.leads.get(lead_id)
        if lead and lead.get("campaign") == campaign["id"] and lead.get("_next_step") == 0 and _live(lead):
            batch.append((lead_id, 0))
            s["new_by_day"][day] = s["new_by_day"].get(day, 0) + 1


def _live(lead: dict[str, Any]) -> bool:
    return lead["status"] == 1 and not lead.get("_stopped")


def render(text: str, lead: dict[str, Any]) -> str:
    values = {**(lead.get("payload") or {}), **{k: v for k, v in lead.items() if isinstance(v, str)}}
    return _VAR.sub(lambda m: str(values.get(m.group(1), "")), text)


def _send(
    state: State,
    campaign: dict[str, Any],
    lead: dict[str, Any],
    step: int,
    ts: int,
    accounts: list[dict[str, Any]],
) -> None:
    cfg, rng, cid, lid = state.config, state.rng, campaign["id"], lead["id"]
    steps = steps_of(campaign)
    spec = steps[step]
    enabled = [i for i, v in enumerate(spec.get("variants") or []) if not v.get("v_disabled")] or [0]
    variant = rng.choice(enabled)
    chosen = (spec.get("variants") or [{"subject": "", "body": ""}])[variant]
    s = sim(campaign)
    account = accounts[s["rr"] % len(accounts)]["email"]
    s["rr"] += 1
    subject = render(chosen.get("subject", ""), lead)
    body = render(chosen.get("body", ""), lead)
    state.append_event(
        ts, "sent", lid, cid, step, variant, {"eaccount": account, "subject": subject, "body": body}
    )
    lead["_next_step"] = step + 1
    if rng.random() < cfg["bounce_rate"]:
        lead["_stopped"] = True
        state.schedule(ts + rng.randint(1, 20) * MS_PER_MINUTE, "bounced", lid, cid, step, variant)
        return
    _react(state, campaign, lead, step, variant, ts, account, subject)
    if step + 1 < len(steps):
        delay = float(spec.get("delay") or 0) * DELAY_UNIT_MS.get(
            spec.get("delay_unit") or "days", MS_PER_DAY
        )
        heapq.heappush(s["followups"], [ts + int(delay), lid, step + 1])
    else:
        state.append_event(ts, "completed", lid, cid, step, variant)


def _react(
    state: State,
    campaign: dict[str, Any],
    lead: dict[str, Any],
    step: int,
    variant: int,
    ts: int,
    account: str,
    subject: str,
) -> None:
    cfg, rng, cid, lid = state.config, state.rng, campaign["id"], lead["id"]
    later = state.schedule
    if campaign.get("open_tracking", True) and rng.random() < cfg["open_rate"]:
        opened = ts + MS_PER_MINUTE + int(rng.expovariate(1 / (4 * MS_PER_HOUR)))
        later(opened, "opened", lid, cid, step, variant)
        again = opened
        for _ in range(3):
            if rng.random() >= cfg["repeat_open_rate"]:
                break
            again += int(rng.expovariate(1 / (12 * MS_PER_HOUR))) + MS_PER_MINUTE
            later(again, "opened", lid, cid, step, variant)
        if campaign.get("link_tracking", True) and rng.random() < cfg["click_rate"]:
            later(opened + rng.randint(10_000, 30 * MS_PER_MINUTE), "clicked", lid, cid, step, variant)
    if rng.random() < cfg["unsubscribe_rate"]:
        later(ts + rng.randint(1, 48) * MS_PER_HOUR, "unsubscribed", lid, cid, step, variant)
        return
    reply = {"eaccount": account, "subject": f"Re: {subject}"}
    if rng.random() < cfg["reply_rate"]:
        replied = ts + 5 * MS_PER_MINUTE + int(rng.expovariate(1 / (10 * MS_PER_HOUR)))
        later(replied, "replied", lid, cid, step, variant, {**reply, "text": rng.choice(REPLY_TEXTS)})
        value = _pick_interest(cfg, rng.random())
        if value is not None:
            decided = replied + rng.randint(5, 600) * MS_PER_MINUTE
            later(decided, "interest", lid, cid, step, variant, {"value": value})
            if value == 2 and rng.random() < cfg["meeting_completed_rate"]:
                later(
                    decided + rng.randint(2, 7) * MS_PER_DAY,
                    "interest",
                    lid,
                    cid,
                    step,
                    variant,
                    {"value": 3},
                )
    elif rng.random() < cfg["auto_reply_rate"]:
        auto = ts + rng.randint(1, 5) * MS_PER_MINUTE
        later(auto, "auto_reply", lid, cid, step, variant, {**reply, "text": AUTO_REPLY_TEXT})
        if rng.random() < cfg["out_of_office_rate"]:
            later(auto + MS_PER_MINUTE, "interest", lid, cid, step, variant, {"value": 0})


def _pick_interest(cfg: dict[str, float], draw: float) -> int | None:
    acc = 0.0
    for key, value in (
        ("interested_rate", 1),
        ("meeting_booked_rate", 2),
        ("not_interested_rate", -1),
        ("wrong_person_rate", -2),
    ):
        acc += cfg[key]
        if draw < acc:
            return value
    return None


def _complete_campaigns(state: State, now: int) -> None:
    """An active campaign whose every lead has finished becomes Completed (status 3)."""
    for campaign in state.campaigns.values():
        if campaign["status"] != 1 or has_work(campaign):
            continue
        ids = state.by_campaign.get(campaign["id"]) or []
        if (
            ids
            and all(state.leads[i]["status"] != 1 for i in ids)
            and not _pending_for(state, campaign["id"])
        ):
            campaign["status"] = 3
            state.append_event(now, "campaign_completed", None, campaign["id"])


def _pending_for(state: State, campaign_id: str) -> bool:
    return any(p[4] == campaign_id and p[2] != "interest" for p in state.pending)
