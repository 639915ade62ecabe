"""Test/admin endpoints under /_sandbox/ (no auth, never rate limited, never faulted).

GET  /_sandbox/            this list, as {"endpoints": [...]}
POST /_sandbox/advance     {"days": N, "hours": N, "minutes": N}   move the simulated clock, run engagement
GET  /_sandbox/faults      current fault knobs;  POST {knob: value, ...} to change (see _faults.py)
GET  /_sandbox/config      engagement probabilities;  POST {key: value} to change (see DEFAULT_ENGAGEMENT)
GET  /_sandbox/stats       requests, per-path counts, statuses, 429s, injected faults, webhook deliveries,
                           the most API requests (allowed or refused) that arrived in any 1 s / 60 s, and
                           the seconds from the first to the last of them (attempt_span_seconds)
POST /_sandbox/stats/reset count afresh from now (the workspace's data stays)
GET  /_sandbox/leads       ?campaign_id=&list_id=   raw dump of leads (email, campaign, payload, counters)
GET  /_sandbox/events      ?campaign_id=&lead_id=&kind=   the event history
GET  /_sandbox/state       summary: clock, counts per entity
POST /_sandbox/reset       forget everything (fresh workspace, default blocklist, seeded accounts)
POST /_sandbox/blocklist   {"entries": ["x@y.com", "domain.com"]}
POST /_sandbox/webhooks/wait  {"timeout": 10}   block until queued webhook deliveries are done
"""

from __future__ import annotations

from typing import Any, TypeVar

from ._engagement import simulate
from ._router import ApiError, Request, route
from ._shapes import raw_lead
from ._state import DEFAULT_ENGAGEMENT
from ._util import MS_PER_DAY, MS_PER_HOUR, MS_PER_MINUTE, iso

_R = TypeVar("_R")


def _saved(sb: Any, result: _R) -> _R:
    sb.save()
    return result


@route("GET", "/_sandbox/")
def index(sb: Any, req: Request) -> dict[str, Any]:
    """The admin endpoints (this module's docstring, one line each), so the URL `sandbox` prints answers."""
    lines = (__doc__ or "").splitlines()
    return {"endpoints": [line for line in lines if line.startswith(("GET ", "POST "))]}


@route("POST", "/_sandbox/advance")
def advance(sb: Any, req: Request) -> dict[str, Any]:
    body = req.body or {}
    try:
        ms = int(
            float(body.get("days", 0)) * MS_PER_DAY
            + float(body.get("hours", 0)) * MS_PER_HOUR
            + float(body.get("minutes", 0)) * MS_PER_MINUTE
        )
    except (TypeError, ValueError) as exc:
        raise ApiError(400, "days/hours/minutes must be numbers") from exc
    if ms < 0:
        raise ApiError(400, "the clock only moves forward")
    state = sb.state
    before = len(state.events)
    state.clock.advance(ms)
    simulate(state, state.now())
    return _saved(
        sb, {"now": iso(state.now()), "new_events": len(state.events) - before, "events": len(state.events)}
    )


@route("GET", "/_sandbox/faults")
def get_faults(sb: Any, req: Request) -> dict[str, Any]:
    faults: dict[str, Any] = sb.faults.to_json()
    return faults


@route("POST", "/_sandbox/faults")
def set_faults(sb: Any, req: Request) -> dict[str, Any]:
    faults: dict[str, Any] = sb.faults.configure(req.body or {})
    return faults


@route("GET", "/_sandbox/config")
def get_config(sb: Any, req: Request) -> dict[str, Any]:
    return dict(sb.state.config)


@route("POST", "/_sandbox/config")
def set_config(sb: Any, req: Request) -> dict[str, Any]:
    body = req.body or {}
    unknown = sorted(set(body) - set(DEFAULT_ENGAGEMENT))
    if unknown:
        raise ApiError(400, f"unknown config key(s): {', '.join(unknown)}")
    sb.state.config.update({k: float(v) for k, v in body.items()})
    return _saved(sb, dict(sb.state.config))


@route("GET", "/_sandbox/stats")
def stats(sb: Any, req: Request) -> dict[str, Any]:
    busiest = {"busiest_second": sb.limiter.busiest(1.0), "busiest_minute": sb.limiter.busiest(60.0)}
    busiest["attempt_span_seconds"] = sb.limiter.span()
    return {**dict(sb.stats), "per_path": dict(sb.per_path), **busiest}


@route("POST", "/_sandbox/stats/reset")
def reset_stats(sb: Any, req: Request) -> dict[str, Any]:
    sb.stats.clear()
    sb.per_path.clear()
    sb.limiter.reset_attempts()
    return {"status": "reset"}


@route("GET", "/_sandbox/leads")
def dump_leads(sb: Any, req: Request) -> dict[str, Any]:
    state, q = sb.state, req.query
    if q.get("campaign_id"):
        ids = state.by_campaign.get(q["campaign_id"], [])
    elif q.get("list_id"):
        ids = state.by_list.get(q["list_id"], [])
    else:
        ids = state.lead_order
    return {"items": [raw_lead(state.leads[i]) for i in ids]}


@route("GET", "/_sandbox/events")
def dump_events(sb: Any, req: Request) -> dict[str, Any]:
    q = (
        sb.state.events_by_campaign.get(req.query["campaign_id"], [])
        if req.query.get("campaign_id")
        else None
    )
    events = sb.state.events if q is None else q
    out = []
    for ev in events:
        if req.query.get("lead_id") and ev.lead_id != req.query["lead_id"]:
            continue
        if req.query.get("kind") and ev.kind != req.query["kind"]:
            continue
        out.append(
            {
                "id": ev.id,
                "timestamp": iso(ev.ts),
                "kind": ev.kind,
                "lead_id": ev.lead_id,
                "campaign_id": ev.campaign_id,
                "step": ev.step,
                "variant": ev.variant,
                "is_first": ev.is_first,
                "data": ev.data,
            }
        )
    return {"items": out}


@route("GET", "/_sandbox/state")
def summary(sb: Any, req: Request) -> dict[str, Any]:
    state = sb.state
    return {
        "now": iso(state.now()),
        "processed_until": iso(state.processed_until),
        "workspace_id": state.workspace_id,
        "campaigns": len(state.campaigns),
        "leads": len(state.leads),
        "events": len(state.events),
        "pending_events": len(state.pending),
        "webhooks": len(state.webhooks),
        "accounts": len(state.accounts),
        "blocklist": sorted(e["bl_value"] for e in state.blocklist.values()),
    }


@route("POST", "/_sandbox/reset")
def reset(sb: Any, req: Request) -> dict[str, Any]:
    sb.state.reset()
    sb.stats.clear()
    sb.limiter.reset_attempts()
    sb.per_path.clear()
    return _saved(sb, {"status": "reset"})


@route("POST", "/_sandbox/blocklist")
def blocklist(sb: Any, req: Request) -> dict[str, Any]:
    entries = (req.body or {}).get("entries")
    if not isinstance(entries, list) or not all(isinstance(e, str) for e in entries):
        raise ApiError(400, 'body must be {"entries": [string, ...]}')
    added = [sb.state.add_block_entry(e) for e in entries]
    return _saved(sb, {"items": added})


@route("POST", "/_sandbox/webhooks/wait", locked=False)
def wait_webhooks(sb: Any, req: Request) -> dict[str, Any]:
    done = sb.dispatcher.wait_idle(float((req.body or {}).get("timeout", 10)))
    return {"idle": done}
