"""The pre-launch check: before a campaign sends, do its emails and its leads fit together?

It reads the campaign (sequence, schedule, sending accounts), its leads and the workspace's accounts, and
reports: the `{{variables}}` the sequence uses and how many leads lack each (a lead without a value gets a
blank in the middle of a sentence), tokens that are not variables at all (`{{firstName}` ...), the schedule
in plain words with its timezone, and the sending accounts with their daily limits against the lead count.
Problems are `blocking` (the emails would go out broken, or nothing would be sent) or `warning`.

The logic is pure (`check_campaign_launch`); `read_launch_check` fetches what it needs through a client (no
Prefect: `campaigns check` imports only this), and the tasks that run it in the activate flow are in
`tasks/campaigns.py`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field

from instantly_client.models import Account, Campaign, CampaignStatus, Lead
from ops_core.errors import OpsError
from ops_core.interface import option
from ops_core.text import quoted
from tasks.campaign_summary import find_campaign

if TYPE_CHECKING:
    from instantly_client import InstantlyClient

__all__ = [
    "AccountLine",
    "LaunchBlockedError",
    "LaunchCheck",
    "Problem",
    "VariableUse",
    "check_campaign_launch",
    "read_launch_check",
    "render_check",
    "schedule_in_words",
    "sequence_tokens",
]

# SPEC Lead.payload examples: the core fields have camelCase copies, which the sequence's {{variables}} use.
CORE_VARIABLES: dict[str, str] = {
    "firstName": "first_name",
    "lastName": "last_name",
    "companyName": "company_name",
    "jobTitle": "job_title",
    "email": "email",
    "phone": "phone",
    "website": "website",
    "personalization": "personalization",
}
# Filled by Instantly from the sending account, not from the lead: never "missing" on a lead.
SENDER_VARIABLES = frozenset(
    {"sendingAccountFirstName", "sendingAccountLastName", "sendingAccountFullName", "accountSignature"}
)
ACCOUNT_ACTIVE = 1  # SPEC Account.status: 1 Active, 2 Paused, -1 / -2 / -3 errors
DAY_NAMES = ("Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat")  # SPEC schedule days: "0" = Sunday

_TOKEN = re.compile(r"\{\{(.*?)\}\}", re.S)
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class Problem(BaseModel):
    level: Literal["blocking", "warning"]
    message: str


class VariableUse(BaseModel):
    """A `{{name}}` the sequence uses: where, what fills it, and how many leads lack a value."""

    name: str
    where: list[str] = Field(default_factory=list)
    source: str  # "lead field first_name", "custom variable", "sending account"
    missing: int = 0


class AccountLine(BaseModel):
    email: str
    found: bool
    status: int | None = None
    daily_limit: float | None = None


class LaunchCheck(BaseModel):
    """The result of the pre-launch check of one campaign."""

    campaign_id: str
    name: str
    status_label: str | None = None
    leads: int = 0
    leads_to_contact: int = 0
    variables: list[VariableUse] = Field(default_factory=list)
    unresolved: list[str] = Field(default_factory=list)
    schedule: list[str] = Field(default_factory=list)
    accounts: list[AccountLine] = Field(default_factory=list)
    daily_limit: float | None = None
    daily_capacity: float | None = None
    problems: list[Problem] = Field(default_factory=list)

    @property
    def blocking(self) -> list[Problem]:
        return [p for p in self.problems if p.level == "blocking"]


def sequence_tokens(sequences: Sequence[Mapping[str, Any]] | None) -> tuple[dict[str, list[str]], list[str]]:
    """The variables of the first sequence (SPEC: only it is used) and the tokens that are not variables.

    Returns:
        ({name: ["step 1 A subject", ...]}, ["step 2 A body: '{{first name}}'", ...]). `{{RANDOM | a | b}}`
        (spintax, anything with `|`) is neither; unbalanced `{{` / `}}` are unresolved tokens.
    """
    used: dict[str, list[str]] = {}
    unresolved: list[str] = []
    steps = ((sequences or [{}])[0] or {}).get("steps") or []
    for i, step in enumerate(steps, start=1):
        for j, variant in enumerate(step.get("variants") or []):
            if variant.get("v_disabled"):
                continue
            for part in ("subject", "body"):
                text = str(variant.get(part) or "")
                where = f"step {i} {chr(ord('A') + j)} {part}"
                for raw in _TOKEN.findall(text):
                    name = raw.strip()
                    if "|" in name:
                        continue  # spintax / fallbacks: filled by Instantly
                    if _NAME.match(name):
                        used.setdefault(name, []).append(where)
                    else:
                        unresolved.append(f"{where}: {{{{{raw}}}}}")
                rest = _TOKEN.sub("", text)
                for stray in re.findall(r"\{\{[^{}]{0,40}|[^{}]{0,40}\}\}", rest):
                    unresolved.append(f"{where}: {stray.strip()!r} (unbalanced braces)")
    return used, unresolved


def _value(record: Mapping[str, Any], name: str) -> object:
    """The value that fills `{{name}}` for a lead: its custom variable, else the core field."""
    payload = record.get("payload") or {}
    if name in payload and payload[name] not in (None, ""):
        return payload[name]
    field = CORE_VARIABLES.get(name)
    return record.get(field) if field else None


def schedule_in_words(schedule: Mapping[str, Any] | None, *, now: datetime | None = None) -> list[str]:
    """One line per schedule, e.g. "Weekdays: Mon-Fri, 08:00-18:00 America/Detroit (UTC-05:00 now)"."""
    lines = []
    now = now or datetime.now(UTC)
    schedule = schedule or {}
    for s in schedule.get("schedules") or []:
        days = s.get("days") or {}
        on = [d for d in range(7) if days.get(str(d))]
        timing = s.get("timing") or {}
        zone = s.get("timezone") or "no timezone"
        offset = ""
        try:
            delta = now.astimezone(ZoneInfo(zone)).utcoffset()
            if delta is not None:
                minutes = int(delta.total_seconds() // 60)
                sign = "+" if minutes >= 0 else "-"
                offset = f" (UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d} now)"
        except (ZoneInfoNotFoundError, ValueError):
            offset = ""
        name = f"{s.get('name')}: " if s.get("name") else ""
        lines.append(
            f"{name}{_days_in_words(on)}, {timing.get('from', '?')}-{timing.get('to', '?')} {zone}{offset}"
        )
    bounds = [
        f"from {schedule['start_date']}" if schedule.get("start_date") else "",
        f"until {schedule['end_date']}" if schedule.get("end_date") else "",
    ]
    if any(bounds):
        lines.append(" ".join(b for b in bounds if b).capitalize())
    return lines


def _days_in_words(days: list[int]) -> str:
    if not days:
        return "no sending days"
    if days == list(range(7)):
        return "every day"
    runs: list[list[int]] = []
    for d in days:
        if runs and d == runs[-1][-1] + 1:
            runs[-1].append(d)
        else:
            runs.append([d])
    return ", ".join(
        f"{DAY_NAMES[r[0]]}-{DAY_NAMES[r[-1]]}" if len(r) > 2 else ", ".join(DAY_NAMES[d] for d in r)
        for r in runs
    )


def check_campaign_launch(
    campaign: Campaign, leads: Iterable[Lead | Mapping[str, Any]], accounts: Iterable[Account]
) -> LaunchCheck:
    """The pre-launch check of `campaign` given its leads and the workspace's accounts (pure).

    Blocking: no step, an empty subject or body, a variable some leads lack, an unresolved token, no sending
    day, no sending account attached, or an attached account the workspace does not have. Warning: no leads
    yet, an attached account that is not active, leads that take more than a week of first emails.
    """
    records = [_record(lead) for lead in leads]
    result = LaunchCheck(
        campaign_id=str(campaign.id),
        name=campaign.name or "",
        status_label=CampaignStatus.label_for(campaign.status),
        leads=len(records),
        daily_limit=campaign.daily_limit,
    )
    problems = result.problems

    def block(message: str) -> None:
        problems.append(Problem(level="blocking", message=message))

    def warn(message: str) -> None:
        problems.append(Problem(level="warning", message=message))

    steps = ((campaign.sequences or [{}])[0] or {}).get("steps") or []
    if not steps:
        block("the sequence has no steps: nothing would be sent")
    for i, step in enumerate(steps, start=1):
        live = [v for v in step.get("variants") or [] if not v.get("v_disabled")]
        if not live:
            block(f"step {i} has no enabled variant")
        for j, variant in enumerate(live):
            for part in ("subject", "body"):
                if not str(variant.get(part) or "").strip() and not (part == "subject" and i > 1):
                    block(f"step {i} {chr(ord('A') + j)} has an empty {part}")

    used, result.unresolved = sequence_tokens(campaign.sequences)
    for token in result.unresolved:
        block(f"unresolved token in {token}")
    custom = {k for record in records for k in (record.get("payload") or {})}
    for name, where in sorted(used.items()):
        if name in SENDER_VARIABLES:
            result.variables.append(VariableUse(name=name, where=where, source="sending account"))
            continue
        source = f"lead field {CORE_VARIABLES[name]}" if name in CORE_VARIABLES else "custom variable"
        missing = sum(1 for record in records if _value(record, name) in (None, ""))
        result.variables.append(VariableUse(name=name, where=where, source=source, missing=missing))
        if missing:
            if name not in CORE_VARIABLES and name not in custom:
                block(f"{{{{{name}}}}} is no lead field and no lead has it as a custom variable")
            else:
                block(
                    f"{{{{{name}}}}} is empty for {missing} of {len(records)} leads (used in {', '.join(where)})"
                )

    result.schedule = schedule_in_words(campaign.campaign_schedule)
    schedules = (campaign.campaign_schedule or {}).get("schedules") or []
    if not any(any((s.get("days") or {}).values()) for s in schedules):
        block("the schedule has no sending day")

    known = {a.email: a for a in accounts if a.email}
    for email in campaign.email_list or []:
        account = known.get(email)
        result.accounts.append(
            AccountLine(
                email=email,
                found=account is not None,
                status=account.status if account else None,
                daily_limit=account.daily_limit if account else None,
            )
        )
        if account is None:
            block(f"sending account {email} is not in this workspace")
        elif account.status != ACCOUNT_ACTIVE:
            warn(f"sending account {email} is not active (status {account.status})")
    if not campaign.email_list:
        block(
            "no sending account is attached (email_list is empty): Instantly sends from attached accounts only"
        )

    active = [a for a in result.accounts if a.found and a.status == ACCOUNT_ACTIVE]
    capacity = sum(a.daily_limit or 0 for a in active)
    if campaign.daily_limit:
        capacity = min(capacity, campaign.daily_limit) if active else 0
    result.daily_capacity = capacity if active else None
    result.leads_to_contact = sum(1 for record in records if not record.get("timestamp_last_contact"))
    if not records:
        warn("the campaign has no leads yet")
    elif capacity and result.leads_to_contact / capacity > 7:
        days = math.ceil(result.leads_to_contact / capacity)
        warn(
            f"{result.leads_to_contact} leads to contact at {capacity:g} emails a day: first emails alone "
            f"take {days} sending days (follow-ups share the same limit)"
        )
    return result


def _record(lead: Lead | Mapping[str, Any]) -> Mapping[str, Any]:
    return lead if isinstance(lead, Mapping) else lead.model_dump()


class LaunchBlockedError(OpsError):
    """The pre-launch check found problems that would send broken emails, or nothing at all."""

    @classmethod
    def from_check(cls, check: LaunchCheck) -> LaunchBlockedError:
        """The one-line error naming the first blocking problems (plain args: it pickles like any error)."""
        first = "; ".join(p.message for p in check.blocking[:2])
        more = f" (and {len(check.blocking) - 2} more)" if len(check.blocking) > 2 else ""
        return cls(
            f"Not activated: the pre-launch check of {quoted(check.name)} found {len(check.blocking)} blocking "
            f"problem(s): {first}{more}.",
            hint=f"see `ops-instantly campaigns check {check.campaign_id}`; fix them, or activate with {option('force')}",
        )


def read_launch_check(client: InstantlyClient, id_or_name: str) -> LaunchCheck:
    """Run the pre-launch check against the API: the campaign, all its leads, the workspace's accounts.

    Raises:
        NotFoundError / AmbiguousNameError: no such campaign.
    """
    campaign = find_campaign(client, id_or_name)
    leads = list(client.leads.list(campaign=str(campaign.id)))
    accounts = list(client.accounts.list())
    return check_campaign_launch(campaign, leads, accounts)


def render_check(check: LaunchCheck) -> list[str]:
    """The check as plain lines (the CLI prints them; the activate flow logs and publishes them)."""
    lines = [
        f"Pre-launch check of {quoted(check.name)} ({check.campaign_id}), {check.status_label or 'status ?'}"
    ]
    lines.append(f"leads: {check.leads} ({check.leads_to_contact} not contacted yet)")
    lines.append("variables:" if check.variables else "variables: none")
    for v in check.variables:
        lack = "" if v.source == "sending account" else f", missing on {v.missing} of {check.leads} leads"
        lines.append(f"  {{{{{v.name}}}}} ({v.source}{lack}) in {', '.join(v.where)}")
    lines.append("unresolved tokens: " + ("; ".join(check.unresolved) if check.unresolved else "none"))
    lines.append("schedule:" if check.schedule else "schedule: none")
    lines += [f"  {line}" for line in check.schedule]
    lines.append("sending accounts:" if check.accounts else "sending accounts: none attached")
    for a in check.accounts:
        state = (
            "not in this workspace"
            if not a.found
            else "active"
            if a.status == ACCOUNT_ACTIVE
            else (f"status {a.status}")
        )
        limit = f", {a.daily_limit:g} a day" if a.daily_limit is not None else ""
        lines.append(f"  {a.email} ({state}{limit})")
    limit = f"{check.daily_limit:g}" if check.daily_limit else "none"
    capacity = f"{check.daily_capacity:g}" if check.daily_capacity is not None else "0"
    lines.append(f"daily limit: campaign {limit}; emails a day it can send: {capacity}")
    for p in check.problems:
        lines.append(f"{p.level.upper()}: {p.message}")
    if not check.problems:
        lines.append("ok: nothing blocks the launch")
    elif not check.blocking:
        lines.append("ok: nothing blocks the launch (see the warnings)")
    return lines
