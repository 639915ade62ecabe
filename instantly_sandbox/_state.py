"""In-memory workspace state: campaigns, leads (with id-ordered indexes), events, webhooks, jobs, accounts.

One `RLock` guards it; request handlers and the simulation hold it while they read or write.
"""

from __future__ import annotations

import bisect
import heapq
import json
import random
import threading
from collections.abc import Callable
from itertools import islice
from operator import lt
from pathlib import Path
from typing import Any

from ._events import Event, apply_event, first_flags
from ._util import MS_PER_DAY, IdFactory, SimClock, iso

DEFAULT_ENGAGEMENT: dict[str, float] = {
    "open_rate": 0.45,  # per delivered email (needs campaign open_tracking)
    "repeat_open_rate": 0.3,  # chance of one more open after an open
    "click_rate": 0.15,  # per opened email (needs link_tracking)
    "reply_rate": 0.06,  # per delivered email
    "auto_reply_rate": 0.03,  # per delivered email
    "bounce_rate": 0.02,  # per sent email
    "unsubscribe_rate": 0.01,  # per delivered email
    "interested_rate": 0.35,  # interest set after a human reply ...
    "meeting_booked_rate": 0.15,
    "not_interested_rate": 0.3,
    "wrong_person_rate": 0.05,
    "meeting_completed_rate": 0.5,  # ... and a booked meeting later completed
    "out_of_office_rate": 0.6,  # interest 0 after an auto-reply
    "tick_minutes": 10,  # simulation step
}
DEFAULT_BLOCKLIST = ["blocked@example.com", "blocked.example"]
PLAN_LEAD_LIMIT = 1_000_000
SEED_ACCOUNTS = [
    ("ava@outreach-sandbox.io", "Ava", "Stone", 2, 50),
    ("ben@outreach-sandbox.io", "Ben", "Okafor", 2, 50),
    ("cleo@getsandbox.co", "Cleo", "Ruiz", 3, 40),
    ("dan@getsandbox.co", "Dan", "Weiss", 1, 60),
]


class State:
    def __init__(self, seed: int = 0) -> None:
        self.lock = threading.RLock()
        self.seed = seed
        self.clock = SimClock()
        self.ids = IdFactory(seed)
        self.rng = random.Random(seed)
        self.listeners: list[Callable[[Event, dict[str, Any] | None, dict[str, Any] | None], None]] = []
        self.reset()

    def reset(self) -> None:
        now = self.clock.now_ms()
        self.workspace_id = self.ids.uuid7(now - 30 * MS_PER_DAY)
        self.user_id = self.ids.uuid7(now - 30 * MS_PER_DAY)
        self.blocklist_id = self.ids.uuid7(now - 30 * MS_PER_DAY)
        self.config: dict[str, float] = dict(DEFAULT_ENGAGEMENT)
        self.campaigns: dict[str, dict[str, Any]] = {}
        self.leads: dict[str, dict[str, Any]] = {}
        self.lead_order: list[str] = []
        self.by_campaign: dict[str, list[str]] = {}
        self.by_list: dict[str, list[str]] = {}
        # lower-cased email -> the id of its lead, or a tuple of ids if it has several (nearly every email has
        # one: a set each cost 200 bytes and an allocation per lead, a 1-tuple 48); read it with ids_with_email
        self.by_email: dict[str, str | tuple[str, ...]] = {}
        self.generation = 0  # bumped whenever a lead is indexed or unindexed
        self.email_orders: dict[str, tuple[int, list[str], list[str]]] = {}  # see campaign_email_order
        self.events: list[Event] = []
        self.events_by_campaign: dict[str, list[Event]] = {}
        self.pending: list[
            list[Any]
        ] = []  # heap of [ts, seq, kind, lead_id, campaign_id, step, variant, data]
        self.pending_seq = 0
        self.processed_until = now
        self.webhooks: dict[str, dict[str, Any]] = {}
        self.webhook_events: dict[str, dict[str, Any]] = {}  # the delivery log, by id (time-ordered)
        self.jobs: dict[str, dict[str, Any]] = {}
        self.blocklist: dict[str, dict[str, Any]] = {}
        self.accounts: dict[str, dict[str, Any]] = {}
        self.plan_remaining = PLAN_LEAD_LIMIT
        for value in DEFAULT_BLOCKLIST:
            self.add_block_entry(value)
        self._seed_accounts(now)

    def now(self) -> int:
        return self.clock.now_ms()

    def new_id(self) -> str:
        return self.ids.uuid7(self.now())

    # -- accounts and blocklist ------------------------------------------------------------------------------
    def _seed_accounts(self, now: int) -> None:
        for i, (email, first, last, provider, limit) in enumerate(SEED_ACCOUNTS):
            created = iso(now - (60 - i) * MS_PER_DAY)
            self.accounts[email] = {
                "email": email,
                "timestamp_created": created,
                "timestamp_updated": created,
                "first_name": first,
                "last_name": last,
                "organization": self.workspace_id,
                "warmup_status": 1,
                "provider_code": provider,
                "setup_pending": False,
                "is_managed_account": False,
                "status": 1,
                "daily_limit": limit,
                "sending_gap": 10,
                "stat_warmup_score": 95 - i,
                "enable_slow_ramp": False,
                "timestamp_warmup_start": created,
                "warmup": {
                    "limit": 40,
                    "increment": "disabled",
                    "reply_rate": 30,
                    "advanced": {
                        "warm_ctd": False,
                        "open_rate": 0.95,
                        "read_emulation": True,
                        "weekday_only": True,
                        "important_rate": 0.8,
                        "spam_save_rate": 0.02,
                    },
                },
            }

    def add_block_entry(self, value: str) -> dict[str, Any]:
        value = value.strip().lower()
        for entry in self.blocklist.values():
            if entry["bl_value"] == value:
                return entry
        entry = {
            "id": self.new_id(),
            "timestamp_created": iso(self.now()),
            "organization_id": self.workspace_id,
            "bl_value": value,
            "is_domain": "@" not in value,
        }
        self.blocklist[entry["id"]] = entry
        return entry

    def is_blocked(self, email: str, values: set[str] | None = None) -> bool:
        """Whether the email or its domain is on the blocklist (`values`: :meth:`blocked_values`, if known)."""
        email = email.lower()
        domain = email.rsplit("@", 1)[-1]
        if values is None:
            values = self.blocked_values()
        return email in values or domain in values

    def blocked_values(self) -> set[str]:
        return {e["bl_value"] for e in self.blocklist.values()}

    # -- leads and indexes -----------------------------------------------------------------------------------
    def index_lead(self, lead: dict[str, Any]) -> None:
        self.generation += 1
        lid = lead["id"]
        self.leads[lid] = lead
        _insort(self.lead_order, lid)
        if lead.get("campaign"):
            _insort(self.by_campaign.setdefault(lead["campaign"], []), lid)
        if lead.get("list_id"):
            _insort(self.by_list.setdefault(lead["list_id"], []), lid)
        if lead.get("email"):
            _add_id(self.by_email, lead["email"].lower(), lid)

    def index_leads(self, leads: list[dict[str, Any]]) -> None:
        """:meth:`index_lead` for each of `leads`: the same indexes, each id list extended once."""
        self.generation += 1
        ids: list[str] = []
        in_campaign: dict[str, list[str]] = {}
        in_list: dict[str, list[str]] = {}
        stored, by_email = self.leads, self.by_email
        for lead in leads:
            lid = lead["id"]
            stored[lid] = lead
            ids.append(lid)
            if lead.get("campaign"):
                in_campaign.setdefault(lead["campaign"], []).append(lid)
            if lead.get("list_id"):
                in_list.setdefault(lead["list_id"], []).append(lid)
            if lead.get("email"):
                _add_id(by_email, lead["email"].lower(), lid)
        _insort_many(self.lead_order, ids)
        for campaign_id, cids in in_campaign.items():
            _insort_many(self.by_campaign.setdefault(campaign_id, []), cids)
        for list_id, lids in in_list.items():
            _insort_many(self.by_list.setdefault(list_id, []), lids)

    def index_new_leads(
        self,
        ids: list[str],
        leads: list[dict[str, Any]],
        emails: list[str],
        *,
        campaign_id: str | None,
        list_id: str | None,
    ) -> None:
        """:meth:`index_leads` for leads `ids` of one campaign or list, just made, whose lower-cased `emails`
        no stored lead has (as `screen_all_new` found): whole-list updates, nothing per lead."""
        self.generation += 1
        self.leads.update(zip(ids, leads, strict=True))
        _insort_many(self.lead_order, ids)
        if campaign_id:
            _insort_many(self.by_campaign.setdefault(campaign_id, []), ids)
        if list_id:
            _insort_many(self.by_list.setdefault(list_id, []), ids)
        self.by_email.update(zip(emails, ids, strict=True))

    def unindex_lead(self, lead: dict[str, Any]) -> None:
        self.generation += 1
        lid = lead["id"]
        _remove(self.lead_order, lid)
        if lead.get("campaign"):
            _remove(self.by_campaign.get(lead["campaign"], []), lid)
        if lead.get("list_id"):
            _remove(self.by_list.get(lead["list_id"], []), lid)
        if lead.get("email"):
            key = lead["email"].lower()
            ids = self.ids_with_email(key)
            if lid in ids:
                rest = tuple(i for i in ids if i != lid)
                self.by_email[key] = rest[0] if len(rest) == 1 else rest

    def delete_lead(self, lid: str) -> dict[str, Any] | None:
        lead = self.leads.pop(lid, None)
        if lead is not None:
            self.unindex_lead(lead)
        return lead

    def campaign_email_order(self, campaign_id: str) -> tuple[list[str], list[str]]:
        """A campaign's lower-cased emails, sorted, and each one's first lead id: the `distinct_contacts`
        order. Built once per change of the leads, not per page (a sort of the whole campaign each)."""
        cached = self.email_orders.get(campaign_id)
        if cached is not None and cached[0] == self.generation:
            return cached[1], cached[2]
        first: dict[str, str] = {}
        for lid in self.by_campaign.get(campaign_id, ()):
            email = self.leads[lid].get("email")
            if email:
                first.setdefault(email.lower(), lid)
        keys = sorted(first)
        ids = [first[k] for k in keys]
        self.email_orders[campaign_id] = (self.generation, keys, ids)
        return keys, ids

    def ids_with_email(self, key: str) -> tuple[str, ...]:
        """The ids `by_email` holds for the lower-cased email `key` (one id is held as a plain string)."""
        ids = self.by_email.get(key, ())
        return (ids,) if isinstance(ids, str) else ids

    def leads_with_email(self, email: str) -> list[dict[str, Any]]:
        return [self.leads[i] for i in self.ids_with_email(email.lower()) if i in self.leads]

    # -- events ----------------------------------------------------------------------------------------------
    def append_event(
        self,
        ts: int,
        kind: str,
        lead_id: str | None,
        campaign_id: str | None,
        step: int | None = None,
        variant: int | None = None,
        data: dict[str, Any] | None = None,
    ) -> Event | None:
        lead = self.leads.get(lead_id) if lead_id else None
        if lead_id and lead is None:
            return None  # the lead was deleted before this engagement happened
        ev = Event(self.ids.uuid7(ts), ts, kind, lead_id, campaign_id, step, variant, 0, data)
        if lead is not None:
            ev.first = first_flags(lead, ev)
            apply_event(lead, ev)
            if kind == "sent":  # webhook payloads of later opens/clicks/replies quote the email they react to
                lead.setdefault("_sent", {})[str(step)] = [
                    ev.id,
                    (data or {}).get("subject"),
                    (data or {}).get("body"),
                ]
        self.events.append(ev)
        if campaign_id:
            self.events_by_campaign.setdefault(campaign_id, []).append(ev)
        campaign = self.campaigns.get(campaign_id) if campaign_id else None
        for listener in self.listeners:
            listener(ev, lead, campaign)
        return ev

    def schedule(
        self,
        ts: int,
        kind: str,
        lead_id: str,
        campaign_id: str,
        step: int | None,
        variant: int | None,
        data: dict[str, Any] | None = None,
    ) -> None:
        """Queue an engagement event that happens once the simulated clock reaches `ts`."""
        self.pending_seq += 1
        heapq.heappush(self.pending, [ts, self.pending_seq, kind, lead_id, campaign_id, step, variant, data])

    # -- persistence -----------------------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        leads = []
        for lead in self.leads.values():
            row = dict(lead)
            row["_firsts"] = sorted(row.get("_firsts", ()))
            leads.append(row)
        return {
            "version": 1,
            "now": self.now(),
            "processed_until": self.processed_until,
            "ids": self.ids.getstate(),
            "rng": _jsonable(self.rng.getstate()),
            "workspace_id": self.workspace_id,
            "user_id": self.user_id,
            "blocklist_id": self.blocklist_id,
            "config": self.config,
            "campaigns": list(self.campaigns.values()),
            "leads": leads,
            "events": [e.to_list() for e in self.events],
            "pending": self.pending,
            "pending_seq": self.pending_seq,
            "webhooks": list(self.webhooks.values()),
            "webhook_events": list(self.webhook_events.values()),
            "jobs": list(self.jobs.values()),
            "blocklist": list(self.blocklist.values()),
            "accounts": list(self.accounts.values()),
            "plan_remaining": self.plan_remaining,
        }

    def load_json(self, data: dict[str, Any]) -> None:
        self.reset()
        self.clock = SimClock(int(data["now"]))
        self.processed_until = int(data["processed_until"])
        self.ids.setstate(data["ids"])
        self.rng.setstate(_tupled(data["rng"]))
        for key in ("workspace_id", "user_id", "blocklist_id", "plan_remaining", "pending_seq"):
            setattr(self, key, data[key])
        self.config.update(data.get("config", {}))
        self.campaigns = {c["id"]: c for c in data["campaigns"]}
        self.webhooks = {w["id"]: w for w in data["webhooks"]}
        self.webhook_events = {e["id"]: e for e in data.get("webhook_events", [])}
        self.jobs = {j["id"]: j for j in data["jobs"]}
        self.blocklist = {b["id"]: b for b in data["blocklist"]}
        self.accounts = {a["email"]: a for a in data["accounts"]}
        for lead in data["leads"]:
            lead["_firsts"] = set(lead.get("_firsts", ()))
            self.index_lead(lead)
        for row in data["events"]:
            ev = Event.from_list(row)
            self.events.append(ev)
            if ev.campaign_id:
                self.events_by_campaign.setdefault(ev.campaign_id, []).append(ev)
        self.pending = [list(p) for p in data["pending"]]
        heapq.heapify(self.pending)

    def save(self, path: str | Path) -> None:
        with self.lock:
            text = json.dumps(self.to_json())
        tmp = Path(f"{path}.tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)

    def load(self, path: str | Path) -> None:
        with self.lock:
            self.load_json(json.loads(Path(path).read_text(encoding="utf-8")))


def _insort(ids: list[str], value: str) -> None:
    if not ids or ids[-1] < value:
        ids.append(value)  # the common case: ids are created in increasing order
    else:
        bisect.insort(ids, value)


def _add_id(index: dict[str, str | tuple[str, ...]], key: str, lid: str) -> None:
    ids = index.get(key)
    if not ids:  # none yet (or none left)
        index[key] = lid
    elif type(ids) is str:
        if ids != lid:
            index[key] = (ids, lid)
    elif lid not in ids:
        index[key] = (*ids, lid)


def _insort_many(ids: list[str], values: list[str]) -> None:
    if values and all(map(lt, values, islice(values, 1, None))) and (not ids or ids[-1] < values[0]):
        ids.extend(values)  # the common case: a batch of fresh ids, each greater than all before
    else:
        for value in values:
            _insort(ids, value)


def _remove(ids: list[str], value: str) -> None:
    i = bisect.bisect_left(ids, value)
    if i < len(ids) and ids[i] == value:
        del ids[i]


def _jsonable(value: Any) -> Any:
    return [_jsonable(v) for v in value] if isinstance(value, tuple | list) else value


def _tupled(value: Any) -> Any:
    return tuple(_tupled(v) for v in value) if isinstance(value, list) else value
