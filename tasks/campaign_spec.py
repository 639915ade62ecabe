"""Campaign specs: the YAML/flag form of a campaign, checked and turned into API bodies (pure, but for
reading the file).

A spec reads the way people describe a campaign (`days: [mon, tue]`, `from: "09:00"`, one `subject`/`body`
per step) and becomes the API's shape (`days: {"0": false, "1": true, ...}`, `timing: {from, to}`,
`sequences[0].steps`).
Every problem is an `OpsError` with one line that names the field.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from instantly_client.models import CAMPAIGN_TIMEZONES, CampaignIn, CampaignPatch, nearest_timezone
from ops_instantly.errors import OpsError

__all__ = [
    "DAY_NAMES",
    "CampaignChanges",
    "CampaignSpec",
    "ScheduleSpec",
    "StepSpec",
    "VariantSpec",
    "check_timezone",
    "create_body",
    "load_campaign_file",
    "parse_days",
    "parse_spec",
    "patch_body",
    "read_yaml",
]

# SPEC campaign_schedule.schedules[].days is keyed "0".."6"; "0" is Sunday (SKL-ASM: Mon-Fri is "1".."5").
DAY_NAMES = {
    "sun": "0",
    "sunday": "0",
    "mon": "1",
    "monday": "1",
    "tue": "2",
    "tues": "2",
    "tuesday": "2",
    "wed": "3",
    "wednesday": "3",
    "thu": "4",
    "thur": "4",
    "thurs": "4",
    "thursday": "4",
    "fri": "5",
    "friday": "5",
    "sat": "6",
    "saturday": "6",
}
_DAY_KEYS = ("0", "1", "2", "3", "4", "5", "6")
WEEKDAYS = ("1", "2", "3", "4", "5")
_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")
_HTML_TAG = re.compile(r"<[a-zA-Z/][^>]*>")


# -- small pure checks ---------------------------------------------------------------------------------


def check_timezone(name: str) -> str:
    """Return `name` if the API accepts it, else raise an `OpsError` naming the nearest zone it does accept.

    The API's list is closed (notes §3, C7): `America/New_York` is not in it, `America/Detroit` is.
    """
    name = name.strip()
    if name in CAMPAIGN_TIMEZONES:
        return name
    nearest = nearest_timezone(name)
    if nearest is None:
        raise OpsError(
            f"Timezone {name!r} is not a known timezone name.",
            hint="use an Instantly zone such as 'America/Detroit', 'America/Chicago' or 'Europe/Isle_of_Man'",
        )
    now = datetime.now(UTC)
    same = now.astimezone(ZoneInfo(name)).utcoffset() == now.astimezone(ZoneInfo(nearest)).utcoffset()
    why = "same UTC offset" if same else "nearest UTC offset"
    raise OpsError(f"Timezone {name!r} is not in Instantly's list; use {nearest!r} ({why})")


def _day_key(token: Any) -> str:
    text = str(token).strip().lower()
    if text in _DAY_KEYS:
        return text
    if text in DAY_NAMES:
        return DAY_NAMES[text]
    raise OpsError(
        f"Unknown day {token!r}.",
        hint='use "0" (Sunday) .. "6" (Saturday) or names like mon, tue ... sun, or a range like mon-fri',
    )


def parse_days(value: Any) -> dict[str, bool]:
    """Normalise days to the API's `{"0": bool, ..., "6": bool}` ("0" = Sunday).

    Accepts a list (`[mon, tue]`, `["1", "2"]`), a string (`"mon-fri"`, `"mon,wed,fri"`, `"1-5"`) or a mapping
    (`{mon: true, "6": false}`); every day not named is off.
    """
    on: set[str] = set()
    if isinstance(value, dict):
        for key, flag in value.items():
            if not isinstance(flag, bool):
                raise OpsError(f"Day {key!r} must be true or false, not {flag!r}.")
            if flag:
                on.add(_day_key(key))
            else:
                _day_key(key)
    else:
        tokens = value.split(",") if isinstance(value, str) else list(value or [])
        for token in tokens:
            text = str(token).strip()
            if "-" in text:  # a range such as mon-fri or 1-5, inclusive, wrapping past Saturday
                first, last = (int(_day_key(part)) for part in text.split("-", 1))
                span = (last - first) % 7
                on.update(str((first + i) % 7) for i in range(span + 1))
            elif text:
                on.add(_day_key(text))
    if not on:
        raise OpsError("The schedule has no sending day.", hint="e.g. days: [mon, tue, wed, thu, fri]")
    return {key: key in on for key in _DAY_KEYS}


def _hhmm(value: str, field: str) -> str:
    match = _TIME.match(str(value).strip())
    if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        raise OpsError(f"Schedule {field} time {value!r} is not HH:MM (00:00 to 23:59).")
    return f"{int(match.group(1)):02d}:{match.group(2)}"


def _html_body(body: str) -> str:
    # The API's body is HTML and "use <br/> tags for delivered email line breaks" (SPEC): plain text from
    # YAML gets its newlines turned into <br/>; a body that already has tags is sent unchanged.
    if _HTML_TAG.search(body):
        return body
    return body.strip("\n").replace("\r\n", "\n").replace("\n", "<br/>")


# -- the spec models (also the flows' parameter models) --------------------------------------------------


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class ScheduleSpec(_Spec):
    """When the campaign sends. Unset fields keep the current value (update) or the default (create)."""

    name: str | None = Field(None, description="Schedule name (default 'Default schedule').")
    timezone: str | None = Field(None, description="One of Instantly's zones, e.g. America/Detroit.")
    days: list[str] | dict[str, bool] | str | None = Field(
        None, description='Sending days: [mon, ..., fri], "mon-fri" or {"1": true}; "0" = Sunday.'
    )
    from_: str | None = Field(None, alias="from", description="Start of the sending window, HH:MM.")
    to: str | None = Field(None, description="End of the sending window, HH:MM.")
    start_date: date | None = Field(None, description="First sending day, YYYY-MM-DD (campaign timezone).")
    end_date: date | None = Field(None, description="Last sending day, YYYY-MM-DD (campaign timezone).")

    @field_validator("from_", "to", mode="before")
    @classmethod
    def _yaml_sexagesimal(cls, value: Any) -> Any:
        # YAML 1.1 reads an unquoted 09:00 as the base-60 integer 540; turn it back into "09:00".
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 24 * 60:
            return f"{value // 60:02d}:{value % 60:02d}"
        return value

    def is_empty(self) -> bool:
        return not self.model_dump(exclude_none=True)


class VariantSpec(_Spec):
    """One A/B variant: subject and body (plain text or HTML)."""

    subject: str = Field(..., min_length=1)
    body: str = Field(..., min_length=1)
    disabled: bool = False


class StepSpec(_Spec):
    """One email step: a subject and body (or several variants), then a delay before the NEXT step."""

    subject: str | None = None
    body: str | None = None
    variants: list[VariantSpec] | None = None
    delay: float = Field(2, ge=0, description="Wait before the NEXT step (API semantics).")
    delay_unit: Literal["minutes", "hours", "days"] = "days"

    @model_validator(mode="after")
    def _one_form(self) -> StepSpec:
        if self.variants and (self.subject or self.body):
            raise ValueError("give either subject/body or variants, not both")
        if not self.variants and not (self.subject and self.body):
            raise ValueError("a step needs a subject and a body (or variants)")
        return self

    def api_variants(self) -> list[dict[str, Any]]:
        variants = self.variants or [VariantSpec(subject=self.subject or "", body=self.body or "")]
        out = []
        for v in variants:
            item: dict[str, Any] = {"subject": v.subject, "body": _html_body(v.body)}
            if v.disabled:
                item["v_disabled"] = True
            out.append(item)
        return out


class CampaignChanges(_Spec):
    """Fields to change on a campaign (`campaigns update`); unset fields are left as they are."""

    name: str | None = Field(None, min_length=1, description="Campaign name.")
    schedule: ScheduleSpec | None = Field(None, description="Sending schedule.")
    sequence: list[StepSpec] | None = Field(None, description="Email steps, in order (replaces all steps).")
    daily_limit: int | None = Field(None, ge=1, description="Emails the campaign may send per day.")
    open_tracking: bool | None = Field(None, description="Track opens.")
    link_tracking: bool | None = Field(None, description="Track link clicks.")
    stop_on_reply: bool | None = Field(None, description="Stop a lead's sequence when they reply.")
    email_list: list[str] | None = Field(None, description="Sending accounts (replaces the list).")
    options: dict[str, Any] = Field(
        default_factory=dict, description="Other API campaign fields, sent as is (e.g. email_gap, text_only)."
    )

    @field_validator("sequence")
    @classmethod
    def _steps(cls, value: list[StepSpec] | None) -> list[StepSpec] | None:
        if value is not None and not value:
            raise ValueError("the sequence needs at least one step")
        return value


class CampaignSpec(CampaignChanges):
    """A whole campaign (`campaigns create`): a name and a schedule timezone are required."""

    name: str = Field(..., min_length=1, description="Campaign name.")  # type: ignore[assignment]
    schedule: ScheduleSpec = Field(..., description="Sending schedule (timezone required).")  # type: ignore[assignment]


# -- specs to API bodies -------------------------------------------------------------------------------


def _schedule(spec: ScheduleSpec, base: dict[str, Any] | None) -> dict[str, Any]:
    """The API's campaign_schedule from a spec, filling unset fields from `base` (the current schedule)."""
    base = base or {}
    current = (base.get("schedules") or [{}])[0]
    timing = current.get("timing") or {}
    timezone = spec.timezone or current.get("timezone")
    if not timezone:
        raise OpsError("The schedule needs a timezone.", hint="e.g. timezone: America/Detroit")
    days = (
        parse_days(spec.days) if spec.days is not None else current.get("days") or parse_days(list(WEEKDAYS))
    )
    start = _hhmm(spec.from_ or timing.get("from") or "09:00", "from")
    end = _hhmm(spec.to or timing.get("to") or "17:00", "to")
    if start >= end:
        raise OpsError(f"The schedule's from time {start} must be before its to time {end}.")
    out: dict[str, Any] = {
        "schedules": [
            {
                "name": spec.name or current.get("name") or "Default schedule",
                "timing": {"from": start, "to": end},
                "days": days,
                "timezone": check_timezone(timezone),
            }
        ]
    }
    for key in ("start_date", "end_date"):
        value = getattr(spec, key)
        if value is not None:
            out[key] = value.isoformat()
        elif base.get(key):
            out[key] = base[key]
    if out.get("start_date") and out.get("end_date") and out["start_date"] > out["end_date"]:
        raise OpsError(
            f"The schedule's start_date {out['start_date']} is after its end_date {out['end_date']}."
        )
    return out


def _api_step(step: StepSpec) -> dict[str, Any]:
    return {
        "type": "email",
        "delay": step.delay,
        "delay_unit": step.delay_unit,
        "variants": step.api_variants(),
    }


def _fields(changes: CampaignChanges) -> dict[str, Any]:
    body: dict[str, Any] = dict(changes.options)
    for key in ("name", "daily_limit", "open_tracking", "link_tracking", "stop_on_reply", "email_list"):
        value = getattr(changes, key)
        if value is not None:
            body[key] = value
    if changes.sequence is not None:
        body["sequences"] = [
            {
                "steps": [
                    {
                        "type": "email",
                        "delay": s.delay,
                        "delay_unit": s.delay_unit,
                        "variants": s.api_variants(),
                    }
                    for s in changes.sequence
                ]
            }
        ]
    return body


def _strict(model: type[CampaignIn] | type[CampaignPatch], body: dict[str, Any]) -> dict[str, Any]:
    # The client's write models are strict (unknown fields rejected); check here so a typo in `options`
    # fails before any request, as one line.
    try:
        return model.model_validate(body).to_body()
    except ValidationError as exc:
        raise OpsError(f"Invalid campaign: {_first_error(exc)}") from None


def create_body(spec: CampaignSpec) -> dict[str, Any]:
    """The `POST /campaigns` body for a spec."""
    body = _fields(spec)
    body["campaign_schedule"] = _schedule(spec.schedule, None)
    return _strict(CampaignIn, body)


def patch_body(changes: CampaignChanges, current_schedule: dict[str, Any] | None = None) -> dict[str, Any]:
    """The `PATCH /campaigns/{id}` body; schedule changes are merged into `current_schedule`."""
    body = _fields(changes)
    if changes.schedule is not None and not changes.schedule.is_empty():
        body["campaign_schedule"] = _schedule(changes.schedule, current_schedule)
    if not body:
        raise OpsError("Nothing to update.", hint="pass --file or at least one option such as --daily-limit")
    return _strict(CampaignPatch, body)


# -- files ------------------------------------------------------------------------------------------------


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(p) for p in error.get("loc", ()) if p != "__root__")
    message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
    return f"{where}: {message}" if where else message


def parse_spec(data: Any, model: type[CampaignChanges], source: str) -> CampaignChanges:
    """Validate a mapping as a spec; errors name `source` and the field."""
    if not isinstance(data, dict):
        raise OpsError(f"{source}: expected a mapping of campaign fields (name, schedule, sequence ...).")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise OpsError(f"{source}: {_first_error(exc)}") from None


def read_yaml(path: str | Path) -> dict[str, Any]:
    """The mapping in a YAML file; a missing file, bad YAML or a non-mapping is one `OpsError` line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise OpsError(f"Cannot read {path}: {exc.strerror or exc}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise OpsError(f"{path} is not valid YAML{where}: {problem}") from None
    if not isinstance(data, dict):
        raise OpsError(f"{path}: expected a mapping of campaign fields (name, schedule, sequence ...).")
    return data


def load_campaign_file(path: str | Path, model: type[CampaignChanges] = CampaignSpec) -> CampaignChanges:
    """Read and validate a campaign YAML file (see examples/campaign.yaml)."""
    return parse_spec(read_yaml(path), model, str(path))
