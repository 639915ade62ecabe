"""Campaign specs: the YAML/JSON/flag form of a campaign, checked and turned into API bodies (pure, but for
reading the file).

A spec reads the way people describe a campaign (`days: [mon, tue]`, `from: "09:00"`, one `subject`/`body`
per step) and becomes the API's shape (`days: {"0": false, "1": true, ...}`, `timing: {from, to}`,
`sequences[0].steps`). A file may also be written in the API's own shape (the body of `POST /campaigns`, or
what `GET /campaigns/{id}` returns): `normalise_campaign` turns it into a spec first, so both shapes go
through the same checks (the same timezone advice included).
Every problem is an `OpsError` with one line that names the field.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Literal, TypeVar
from zoneinfo import ZoneInfo

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from instantly_client.models import CAMPAIGN_TIMEZONES, CampaignIn, CampaignPatch, nearest_timezone
from ops_core.errors import OpsError
from ops_core.interface import in_cli, option

__all__ = [
    "DAY_NAMES",
    "READ_ONLY_FIELDS",
    "CampaignChanges",
    "CampaignInput",
    "CampaignSpec",
    "ScheduleSpec",
    "StepSpec",
    "VariantSpec",
    "check_changes",
    "check_timezone",
    "create_body",
    "load_campaign_file",
    "normalise_campaign",
    "parse_days",
    "parse_spec",
    "patch_body",
    "read_campaign_file",
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
    html: bool = Field(
        False, description="The body is the API's HTML already: sent unchanged (no newline to <br/>)."
    )


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
            item: dict[str, Any] = {"subject": v.subject, "body": v.body if v.html else _html_body(v.body)}
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

    @model_validator(mode="before")
    @classmethod
    def _api_shape(cls, data: Any) -> Any:
        # Either shape, wherever the spec comes from (a deployment run's JSON, say): the API's is read as the
        # friendly one it means. Read-only fields are dropped silently here (the CLI names them).
        if isinstance(data, dict):
            return normalise_campaign(data, "campaign", update=cls is CampaignChanges).data
        return data

    @field_validator("sequence")
    @classmethod
    def _steps(cls, value: list[StepSpec] | None) -> list[StepSpec] | None:
        if value is not None and not value:
            raise ValueError("the sequence needs at least one step")
        return value


class CampaignSpec(CampaignChanges):
    """A whole campaign (`campaigns create`): a name and a schedule timezone are required."""

    name: str = Field(..., min_length=1, description="Campaign name.")
    schedule: ScheduleSpec = Field(..., description="Sending schedule (timezone required).")


# -- specs to API bodies -------------------------------------------------------------------------------


def _schedule(spec: ScheduleSpec, base: dict[str, Any] | None) -> dict[str, Any]:
    """The API's campaign_schedule from a spec, filling unset fields from `base` (the current schedule)."""
    base = base or {}
    current = (base.get("schedules") or [{}])[0]
    timing = current.get("timing") or {}
    timezone = spec.timezone or current.get("timezone")
    if not timezone:
        raise OpsError("The schedule needs a timezone.", hint=_timezone_hint())
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


def check_changes(changes: CampaignChanges) -> None:
    """What `patch_body` would refuse without the current campaign (pure): timezone, days, times, the order
    of the times and dates given together, and unknown fields. The CLI checks it before its flow run starts,
    so a typo fails as one line and leaves no failed run on the Prefect server.

    Raises:
        OpsError: the first problem, in one line.
    """
    schedule = changes.schedule
    if schedule is not None:
        if schedule.timezone:
            check_timezone(schedule.timezone)
        if schedule.days is not None:
            parse_days(schedule.days)
        start = _hhmm(schedule.from_, "from") if schedule.from_ is not None else None
        end = _hhmm(schedule.to, "to") if schedule.to is not None else None
        if start and end and start >= end:
            raise OpsError(f"The schedule's from time {start} must be before its to time {end}.")
        if schedule.start_date and schedule.end_date and schedule.start_date > schedule.end_date:
            raise OpsError(
                f"The schedule's start_date {schedule.start_date.isoformat()} is after its end_date "
                f"{schedule.end_date.isoformat()}."
            )
    body = _fields(changes)
    if body:
        _strict(CampaignPatch, body)


def patch_body(changes: CampaignChanges, current_schedule: dict[str, Any] | None = None) -> dict[str, Any]:
    """The `PATCH /campaigns/{id}` body; schedule changes are merged into `current_schedule`."""
    body = _fields(changes)
    if changes.schedule is not None and not changes.schedule.is_empty():
        body["campaign_schedule"] = _schedule(changes.schedule, current_schedule)
    if not body:
        # The CLI builds `changes` from --file or its options; a flow run is given it as a parameter.
        hint = (
            "pass --file or at least one option such as --daily-limit"
            if in_cli()
            else f"give {option('changes')} at least one field, such as daily_limit"
        )
        raise OpsError("Nothing to update.", hint=hint)
    return _strict(CampaignPatch, body)


# -- the API's own shape -----------------------------------------------------------------------------------

# SPEC components.schemas.Campaign: the fields the API sets (readOnly). A body copied from GET /campaigns/{id}
# carries them; they are dropped with a note, never sent.
READ_ONLY_FIELDS = (
    "id",
    "status",
    "not_sending_status",
    "organization",
    "core_variables",
    "custom_variables",
    "timestamp_created",
    "timestamp_updated",
)
_CREATE_ONLY = ("ai_sdr_id",)  # SPEC POST /campaigns has it, PATCH /campaigns/{id} does not
# SPEC steps[].pre_delay(_unit): "Only applicable to subsequences - this field is ignored for regular campaigns".
_SUBSEQUENCE_ONLY = ("pre_delay", "pre_delay_unit")
_FRIENDLY_KEYS = ("schedule", "sequence", "options")
_API_KEYS = ("campaign_schedule", "sequences")
_API_FIELDS = frozenset(CampaignIn.model_fields)
_WHY = {
    "read-only": "read-only: the API sets them",
    "create-only": "the API takes it on create only",
    "subsequence-only": "the API uses it in subsequences only",
}


@dataclass(frozen=True)
class CampaignInput:
    """A campaign file's content in the friendly shape, whichever shape it was written in.

    Attributes:
        data: the mapping `parse_spec` validates (schedule, sequence, options ...).
        api_shape: the file was the API's body (campaign_schedule, sequences): errors name the API's paths.
        ignored: (API path, reason) of each field dropped because the API would not use it.
    """

    data: dict[str, Any]
    api_shape: bool = False
    ignored: tuple[tuple[str, str], ...] = field(default_factory=tuple)

    def note(self) -> str | None:
        """One line naming the dropped fields and why, or None."""
        if not self.ignored:
            return None
        groups: dict[str, list[str]] = {}
        for path, reason in self.ignored:
            groups.setdefault(reason, []).append(path)
        parts = [f"{', '.join(paths)} ({_WHY[reason]})" for reason, paths in groups.items()]
        return f"note: ignored {'; '.join(parts)}"


def _schedule_from_api(value: Any, source: str) -> dict[str, Any]:
    """campaign_schedule (SPEC: {schedules: [{name, timing: {from, to}, days, timezone}], start_date, end_date})
    as the friendly `schedule`; the values are checked later, by the same code as the friendly shape's."""
    where = "campaign_schedule"
    if not isinstance(value, dict):
        raise OpsError(f"{source}: {where} must be a mapping with schedules: [...]")
    for key in value:
        if key not in ("schedules", "start_date", "end_date"):
            raise OpsError(f"{source}: {where}.{key}: Extra inputs are not permitted")
    schedules = value.get("schedules")
    if not isinstance(schedules, list) or not schedules or not isinstance(schedules[0], dict):
        raise OpsError(f"{source}: {where}.schedules needs one schedule (name, timing, days, timezone).")
    if len(schedules) > 1:
        raise OpsError(
            f"{source}: {where}.schedules has {len(schedules)} schedules; ops-instantly manages one.",
            hint="keep one schedule in the file (edit the others in the Instantly app)",
        )
    out = {key: item for key, item in schedules[0].items() if key != "timing" and item is not None}
    timing = schedules[0].get("timing")
    if timing is not None:
        if not isinstance(timing, dict):
            raise OpsError(f"{source}: {where}.schedules.0.timing must be a mapping with from and to.")
        for key, item in timing.items():
            if key not in ("from", "to"):
                raise OpsError(f"{source}: {where}.schedules.0.timing.{key}: Extra inputs are not permitted")
            out[key] = item
    for key in ("start_date", "end_date"):
        if value.get(key) is not None:
            out[key] = value[key]
    return out


def _sequence_from_api(value: Any, source: str, ignored: list[tuple[str, str]]) -> list[Any]:
    """sequences (SPEC: one item, {steps: [{type, delay, delay_unit, variants: [{subject, body, v_disabled}]}]})
    as the friendly `sequence`. Bodies are the API's HTML, so they are marked to be sent unchanged."""
    if not isinstance(value, list) or not value or not isinstance(value[0], dict):
        raise OpsError(f"{source}: sequences must be a list of one item holding steps: [...]")
    if len(value) > 1:
        # SPEC: "only the first element is used"; refusing beats silently dropping the others' emails.
        raise OpsError(
            f"{source}: sequences has {len(value)} items but the API uses only the first.",
            hint="put every step in sequences[0].steps",
        )
    for key in value[0]:
        if key != "steps":
            raise OpsError(f"{source}: sequences.0.{key}: Extra inputs are not permitted")
    steps = value[0].get("steps")
    if not isinstance(steps, list):
        raise OpsError(f"{source}: sequences.0.steps must be a list of steps (type, delay, variants).")
    out: list[Any] = []
    for i, step in enumerate(steps):
        if not isinstance(step, dict):
            out.append(step)  # the spec's validation names it
            continue
        if step.get("type", "email") != "email":
            raise OpsError(
                f"{source}: sequences.0.steps.{i}.type {step['type']!r} is not a step type the API knows "
                "(Instantly has 'email' steps only)."
            )
        friendly: dict[str, Any] = {}
        for key, item in step.items():
            if key == "type" or item is None:
                continue
            if key in _SUBSEQUENCE_ONLY:
                ignored.append((f"sequences.0.steps.{i}.{key}", "subsequence-only"))
            elif key == "variants" and isinstance(item, list):
                friendly[key] = [_variant_from_api(v) for v in item]
            else:
                friendly[key] = item
        out.append(friendly)
    return out


def _variant_from_api(variant: Any) -> Any:
    if not isinstance(variant, dict):
        return variant
    out = {key: item for key, item in variant.items() if key != "v_disabled"}
    if variant.get("v_disabled") is not None:
        out["disabled"] = variant["v_disabled"]
    return {**out, "html": True}


def normalise_campaign(data: Any, source: str = "campaign", *, update: bool = False) -> CampaignInput:
    """A campaign mapping in either shape, as the friendly shape `parse_spec` checks.

    The API's shape is the `POST /campaigns` body or a `GET /campaigns/{id}` response (SPEC
    components.schemas.Campaign): read-only fields are dropped (see `CampaignInput.note`), API fields with no
    friendly name go to `options`, and bodies count as HTML. Either shape may give API fields such as
    `email_gap` at the top level.

    Raises:
        OpsError: not a mapping, both shapes mixed, or a structure the friendly shape cannot hold (several
            schedules or sequences).
    """
    if not isinstance(data, dict):
        raise OpsError(f"{source}: expected a mapping of campaign fields (name, schedule, sequence ...).")
    api = [k for k in _API_KEYS if k in data]
    friendly = [k for k in _FRIENDLY_KEYS if k in data]
    if api and friendly:
        raise OpsError(
            f"{source} mixes the API's shape ({api[0]}) with the friendly one ({friendly[0]}).",
            hint="use campaign_schedule/sequences as the API does, or schedule/sequence as in "
            "examples/campaign.yaml",
        )
    dropped = {key: "read-only" for key in READ_ONLY_FIELDS} | (
        {key: "create-only" for key in _CREATE_ONLY} if update else {}
    )
    ignored: list[tuple[str, str]] = []
    out: dict[str, Any] = {}
    moved: dict[str, Any] = {}
    for key, value in data.items():
        if key in dropped:
            ignored.append((key, dropped[key]))
        elif key == "campaign_schedule":
            out["schedule"] = _schedule_from_api(value, source)
        elif key == "sequences":
            out["sequence"] = _sequence_from_api(value, source, ignored)
        elif key in CampaignChanges.model_fields or key not in _API_FIELDS:
            out[key] = value  # a friendly field (or a typo the spec's validation names)
        else:
            moved[key] = value  # an API field with no friendly name, sent as is (like `options`)
    if moved:
        options = out.setdefault("options", {})
        if isinstance(options, dict):
            twice = sorted(set(moved) & set(options))
            if twice:
                raise OpsError(f"{source}: {twice[0]} is given twice, at the top level and under options.")
            options.update(moved)
    return CampaignInput(data=out, api_shape=bool(api) or bool(ignored), ignored=tuple(ignored))


# -- files ------------------------------------------------------------------------------------------------


def _api_path(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """A friendly spec's error location as the path in the API's shape the user wrote."""
    head, rest = (loc[0], loc[1:]) if loc else ("", ())
    if head == "schedule":
        if rest[:1] in (("from",), ("to",)):
            return ("campaign_schedule", "schedules", 0, "timing", *rest)
        if rest[:1] in (("start_date",), ("end_date",)):
            return ("campaign_schedule", *rest)
        return ("campaign_schedule", "schedules", 0, *rest)
    if head == "sequence":
        return ("sequences", 0, "steps", *("v_disabled" if p == "disabled" else p for p in rest))
    if head == "options":
        return rest
    return loc


def _first_error(exc: ValidationError, api_shape: bool = False) -> str:
    error = exc.errors()[0]
    loc = tuple(p for p in error.get("loc", ()) if p != "__root__")
    where = ".".join(str(p) for p in (_api_path(loc) if api_shape else loc))
    message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
    return f"{where}: {message}" if where else message


_Spec_T = TypeVar("_Spec_T", bound=CampaignChanges)


def parse_spec(data: Any, model: type[_Spec_T], source: str, *, api_shape: bool = False) -> _Spec_T:
    """Validate a friendly mapping (see `normalise_campaign`) as a spec; errors name `source` and the field
    (by its path in the API's shape when `api_shape`)."""
    if not isinstance(data, dict):
        raise OpsError(f"{source}: expected a mapping of campaign fields (name, schedule, sequence ...).")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        if first.get("type") == "missing" and tuple(first.get("loc", ())) == ("schedule",):
            raise OpsError(
                f"{source}: a campaign needs a sending schedule, at least its timezone.",
                hint=_timezone_hint(),
            ) from None
        raise OpsError(f"{source}: {_first_error(exc, api_shape)}") from None


def _timezone_hint() -> str:
    """How to give the schedule's timezone, in the user's interface (days, from and to have defaults)."""
    if in_cli():
        return "e.g. --timezone America/Detroit; days and hours have defaults"
    return "e.g. schedule: {timezone: America/Detroit}; days and hours have defaults"


class _RepeatedKey(Exception):
    def __init__(self, key: object, where: str = "") -> None:
        super().__init__(key)
        self.key, self.where = key, where


def _json_mapping(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """json.loads' object hook: a key given twice is refused (json keeps the last one silently)."""
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise _RepeatedKey(key)
        seen[key] = value
    return seen


class _StrictLoader(yaml.SafeLoader):
    """yaml.safe_load, refusing a mapping key given twice (PyYAML keeps the last one silently)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        keys = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if key in keys:
                mark = key_node.start_mark
                raise _RepeatedKey(key, f" at line {mark.line + 1}, column {mark.column + 1}")
            keys.add(key)
        return super().construct_mapping(node, deep=deep)


def _parse_text(text: str, source: str) -> Any:
    """JSON for a `.json` file, or text that looks like JSON, else YAML (which also reads most JSON).

    A key given twice in one mapping is refused, in either syntax.
    """
    json_error: json.JSONDecodeError | None = None
    try:
        if source.lower().endswith(".json") or text.lstrip().startswith(("{", "[")):
            try:
                return json.loads(text, object_pairs_hook=_json_mapping)
            except json.JSONDecodeError as exc:
                json_error = exc  # maybe YAML flow style ({name: x}); report JSON's error if YAML fails too
                if source.lower().endswith(".json"):  # a .json file is JSON: its own error, not YAML's guess
                    raise
        try:
            return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 (a SafeLoader)
        except yaml.YAMLError as exc:
            if json_error is not None:
                raise json_error from None
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            problem = getattr(exc, "problem", None) or "invalid YAML"
            raise OpsError(f"{source} is not valid YAML{where}: {problem}") from None
    except json.JSONDecodeError as exc:
        raise OpsError(
            f"{source} is not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from None
    except _RepeatedKey as exc:
        raise OpsError(
            f"{source}: the key {exc.key!r} is given twice{exc.where} (only one value can be kept)"
        ) from None


def read_campaign_file(path: str | Path) -> dict[str, Any]:
    """The mapping in a YAML or JSON file (`-`: standard input); an unreadable file, bad YAML/JSON or a
    non-mapping is one `OpsError` line."""
    if str(path) == "-":
        source, text = "stdin", sys.stdin.read()
    else:
        source = str(path)
        try:
            text = Path(path).read_text(encoding="utf-8-sig")
        except OSError as exc:
            raise OpsError(f"Cannot read {path}: {exc.strerror or exc}") from None
    data = _parse_text(text, source)
    if not isinstance(data, dict):
        raise OpsError(f"{source}: expected a mapping of campaign fields (name, schedule, sequence ...).")
    return data


def load_campaign_file(path: str | Path, model: type[CampaignChanges] = CampaignSpec) -> CampaignChanges:
    """Read and validate a campaign file in either shape (see examples/campaign.yaml, `normalise_campaign`)."""
    source = "stdin" if str(path) == "-" else str(path)
    found = normalise_campaign(read_campaign_file(path), source, update=model is CampaignChanges)
    return parse_spec(found.data, model, source, api_shape=found.api_shape)
