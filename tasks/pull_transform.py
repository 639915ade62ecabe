"""Turn API records into warehouse rows (pure: no I/O).

Each `*_row` function takes one record as the API returned it (a dict: the client's read model dumped with
its unknown fields) and returns the row for the matching `instantly.*` table, with `_hash`, a digest of the
row's data used by the merge to leave unchanged rows untouched. `SCHEMAS` gives each table's column types
for polars, in table order.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

import polars as pl

from instantly_client import CampaignStatus, InterestStatus, LeadStatus
from instantly_client.models.enums import int_code
from ops_core.emails import normalise_email
from ops_core.engagement import email_status
from ops_core.errors import OpsError

_TS = pl.Datetime("us", "UTC")
_STR = pl.Utf8
_INT = pl.Int64

# SPEC GET /campaigns/analytics/steps: the counts of one step/variant row (the last four only with
# include_opportunities_count=true).
STEP_COUNTS = (
    "sent",
    "opened",
    "unique_opened",
    "replies",
    "unique_replies",
    "replies_automatic",
    "unique_replies_automatic",
    "clicks",
    "unique_clicks",
    "opportunities",
    "unique_opportunities",
    "meetings_booked",
    "won",
)

SCHEMAS: dict[str, dict[str, pl.DataType | type[pl.DataType]]] = {
    "campaigns": {
        "id": _STR,
        "name": _STR,
        "status": _INT,
        "status_label": _STR,
        "is_evergreen": pl.Boolean,
        "daily_limit": pl.Float64,
        "organization": _STR,
        "timestamp_created": _TS,
        "timestamp_updated": _TS,
        "data": _STR,
    },
    "leads": {
        "id": _STR,
        "campaign_id": _STR,
        "list_id": _STR,
        "email": _STR,
        "email_normalized": _STR,
        "first_name": _STR,
        "last_name": _STR,
        "company_name": _STR,
        "status": _INT,
        "status_label": _STR,
        "lt_interest_status": _INT,
        "interest_status_label": _STR,
        "email_status": _STR,
        "email_open_count": _INT,
        "email_reply_count": _INT,
        "email_click_count": _INT,
        "timestamp_created": _TS,
        "timestamp_updated": _TS,
        "timestamp_last_contact": _TS,
        "timestamp_last_open": _TS,
        "timestamp_last_reply": _TS,
        "timestamp_last_click": _TS,
        "timestamp_last_interest_change": _TS,
        "verification_status": _INT,
        "custom_variables": _STR,
    },
    "campaign_analytics": {
        "campaign_id": _STR,
        "snapshot_date": pl.Date,
        "campaign_name": _STR,
        "campaign_status": _INT,
        "campaign_is_evergreen": pl.Boolean,
        **{
            c: _INT
            for c in (
                "leads_count",
                "contacted_count",
                "new_leads_contacted_count",
                "emails_sent_count",
                "open_count",
                "open_count_unique",
                "reply_count",
                "reply_count_unique",
                "reply_count_automatic",
                "link_click_count",
                "link_click_count_unique",
                "bounced_count",
                "unsubscribed_count",
                "completed_count",
                "total_opportunities",
            )
        },
        "total_opportunity_value": pl.Float64,
    },
    "campaign_daily_analytics": {
        "campaign_id": _STR,
        "date": pl.Date,
        **{
            c: _INT
            for c in (
                "sent",
                "contacted",
                "new_leads_contacted",
                "opened",
                "unique_opened",
                "replies",
                "unique_replies",
                "replies_automatic",
                "unique_replies_automatic",
                "clicks",
                "unique_clicks",
                "opportunities",
                "unique_opportunities",
            )
        },
    },
    "campaign_step_analytics": {
        "campaign_id": _STR,
        "step": _INT,
        "variant": _INT,
        "variant_label": _STR,
        **{c: _INT for c in STEP_COUNTS},
    },
    "emails": {
        "id": _STR,
        "timestamp_created": _TS,
        "timestamp_email": _TS,
        "campaign_id": _STR,
        "lead_id": _STR,
        "lead_email": _STR,
        "lead_email_normalized": _STR,
        "eaccount": _STR,
        "from_address_email": _STR,
        "to_address_email_list": _STR,
        "subject": _STR,
        "body_text": _STR,
        "body_html": _STR,
        "content_preview": _STR,
        "ue_type": _INT,
        "is_auto_reply": _INT,
        "i_status": _INT,
        "thread_id": _STR,
        "message_id": _STR,
    },
}


class SyncDataError(OpsError):
    """The API returned data the sync cannot load (e.g. a record without its key)."""


# The natural key each table is merged on.
KEYS: dict[str, tuple[str, ...]] = {
    "campaigns": ("id",),
    "leads": ("id",),
    "campaign_analytics": ("campaign_id", "snapshot_date"),
    "campaign_daily_analytics": ("campaign_id", "date"),
    "campaign_step_analytics": ("campaign_id", "step", "variant"),
    "emails": ("id",),
}


def campaign_row(record: Mapping[str, Any]) -> dict[str, Any]:
    """A row of instantly.campaigns from a Campaign record."""
    _require(record, "id", "campaign")
    status = int_code(record.get("status"))
    return _hashed(
        {
            "id": record["id"],
            "name": record.get("name"),
            "status": status,
            "status_label": CampaignStatus.label_for(status),
            "is_evergreen": record.get("is_evergreen"),
            "daily_limit": _float(record.get("daily_limit")),
            "organization": record.get("organization"),
            "timestamp_created": parse_timestamp(record.get("timestamp_created")),
            "timestamp_updated": parse_timestamp(record.get("timestamp_updated")),
            "data": _json(record),
        }
    )


def lead_row(record: Mapping[str, Any]) -> dict[str, Any]:
    """A row of instantly.leads from a Lead record (email status derived, labels added)."""
    _require(record, "id", "lead")
    status = int_code(record.get("status"))
    interest = int_code(record.get("lt_interest_status"))
    return _hashed(
        {
            "id": record["id"],
            "campaign_id": record.get("campaign"),
            "list_id": record.get("list_id"),
            "email": record.get("email"),
            "email_normalized": normalise_email(record.get("email")),
            "first_name": record.get("first_name"),
            "last_name": record.get("last_name"),
            "company_name": record.get("company_name"),
            "status": status,
            "status_label": LeadStatus.label_for(status),
            "lt_interest_status": interest,
            "interest_status_label": interest_label(interest),
            "email_status": email_status(record),
            "email_open_count": int_code(record.get("email_open_count")) or 0,
            "email_reply_count": int_code(record.get("email_reply_count")) or 0,
            "email_click_count": int_code(record.get("email_click_count")) or 0,
            "timestamp_created": parse_timestamp(record.get("timestamp_created")),
            "timestamp_updated": parse_timestamp(record.get("timestamp_updated")),
            "timestamp_last_contact": parse_timestamp(record.get("timestamp_last_contact")),
            "timestamp_last_open": parse_timestamp(record.get("timestamp_last_open")),
            "timestamp_last_reply": parse_timestamp(record.get("timestamp_last_reply")),
            "timestamp_last_click": parse_timestamp(record.get("timestamp_last_click")),
            "timestamp_last_interest_change": parse_timestamp(record.get("timestamp_last_interest_change")),
            "verification_status": int_code(record.get("verification_status")),
            "custom_variables": _json(record.get("payload")) if record.get("payload") is not None else None,
        }
    )


def analytics_row(record: Mapping[str, Any], snapshot_date: date) -> dict[str, Any]:
    """A row of instantly.campaign_analytics: one campaign's totals as of `snapshot_date`."""
    _require(record, "campaign_id", "campaign analytics row")
    row: dict[str, Any] = {"campaign_id": record["campaign_id"], "snapshot_date": snapshot_date}
    for column, dtype in SCHEMAS["campaign_analytics"].items():
        if column in row:
            continue
        value = record.get(column)
        row[column] = int_code(value) if dtype == _INT else value
    row["total_opportunity_value"] = _float(record.get("total_opportunity_value"))
    return _hashed(row)


def daily_row(record: Mapping[str, Any], campaign_id: str) -> dict[str, Any]:
    """A row of instantly.campaign_daily_analytics, stamped with the campaign (the API's rows lack it)."""
    _require(record, "date", "daily analytics row")
    row: dict[str, Any] = {"campaign_id": campaign_id, "date": parse_date(record["date"])}
    for column in list(SCHEMAS["campaign_daily_analytics"])[2:]:
        row[column] = int_code(record.get(column)) or 0
    return _hashed(row)


def step_row(record: Mapping[str, Any], campaign_id: str) -> dict[str, Any]:
    """A row of instantly.campaign_step_analytics, stamped with the campaign (the API's rows lack it).

    The API's `step` and `variant` are 0-based strings or null (SPEC; notes C11): they become 1-based
    integers like the webhook payloads' (variant 1 = A), and null becomes 0 ("not determined").
    """
    step, variant = _position(record.get("step"), "step"), _position(record.get("variant"), "variant")
    row: dict[str, Any] = {
        "campaign_id": campaign_id,
        "step": step,
        "variant": variant,
        "variant_label": variant_label(variant),
    }
    for column in STEP_COUNTS:
        row[column] = int_code(record.get(column)) or 0
    return _hashed(row)


def variant_label(variant: int) -> str | None:
    """'A' for variant 1, 'B' for 2 ... 'Z', then 'V27' ...; None for 0 (not determined)."""
    if variant <= 0:
        return None
    return chr(ord("A") + variant - 1) if variant <= 26 else f"V{variant}"


def _position(value: object, what: str) -> int:
    if value is None or value == "":
        return 0
    number = int_code(value)
    if number is None or number < 0:
        raise SyncDataError(
            f"The API returned a step analytics row with a bad {what} {value!r}; nothing was loaded.",
            hint="the API response changed shape; report it with the run id",
        )
    return number + 1


def email_row(record: Mapping[str, Any]) -> dict[str, Any]:
    """A row of instantly.emails from an Email record."""
    _require(record, "id", "email")
    raw_body = record.get("body")
    body: Mapping[str, Any] = raw_body if isinstance(raw_body, Mapping) else {}
    return _hashed(
        {
            "id": record["id"],
            "timestamp_created": parse_timestamp(record.get("timestamp_created")),
            "timestamp_email": parse_timestamp(record.get("timestamp_email")),
            "campaign_id": record.get("campaign_id"),
            "lead_id": record.get("lead_id"),
            "lead_email": record.get("lead"),
            "lead_email_normalized": normalise_email(record.get("lead")),
            "eaccount": record.get("eaccount"),
            "from_address_email": record.get("from_address_email"),
            "to_address_email_list": record.get("to_address_email_list"),
            "subject": record.get("subject"),
            "body_text": body.get("text"),
            "body_html": body.get("html"),
            "content_preview": record.get("content_preview"),
            "ue_type": int_code(record.get("ue_type")),
            "is_auto_reply": int_code(record.get("is_auto_reply")),
            "i_status": int_code(record.get("i_status")),
            "thread_id": record.get("thread_id"),
            "message_id": record.get("message_id"),
        }
    )


def frame(table: str, rows: Iterable[Mapping[str, Any]]) -> pl.DataFrame:
    """Rows as a DataFrame with the table's column types, `_hash` last, deduplicated on the key."""
    schema = {**SCHEMAS[table], "_hash": _STR}
    df = pl.DataFrame(list(rows), schema=schema)
    # The same record can arrive twice (overlapping cursor ranges, a resumed chain): keep the last.
    return df.unique(subset=list(KEYS[table]), keep="last", maintain_order=True)


def interest_label(value: int | None) -> str | None:
    """Label of an interest status: the standard label, "Lead" for none, "Custom (N)" for custom labels."""
    if value is None:
        return "Lead"
    return InterestStatus.label_for(value) or f"Custom ({value})"


def unknown_fields(record: Mapping[str, Any], known: Iterable[str]) -> set[str]:
    """Fields of `record` that the client's model does not declare (the API grew a field)."""
    return set(record) - set(known)


def parse_timestamp(value: object) -> datetime | None:
    """An ISO-8601 timestamp (`...Z` or with an offset) as an aware datetime; None when absent or bad."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None


def parse_date(value: object) -> date:
    """A `YYYY-MM-DD` date (or the date part of a timestamp)."""
    if isinstance(value, date):
        return value
    text = str(value).strip()
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        raise SyncDataError(f"The API returned a daily analytics row with a bad date {text!r}") from None


def row_hash(row: Mapping[str, Any]) -> str:
    """A digest of a row's data columns (underscore columns excluded)."""
    data = {k: v for k, v in row.items() if not k.startswith("_")}
    text = json.dumps(data, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _hashed(row: dict[str, Any]) -> dict[str, Any]:
    row["_hash"] = row_hash(row)
    return row


def _require(record: Mapping[str, Any], field: str, what: str) -> None:
    if record.get(field) in (None, ""):
        raise SyncDataError(
            f"The API returned a {what} without `{field}`; nothing was loaded.",
            hint="the API response changed shape; report it with the run id",
        )


def _float(value: object) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return float(value)  # type: ignore[arg-type]  # any value: what float() refuses is caught below
    except (TypeError, ValueError):
        return None


def _json(value: object) -> str:
    return json.dumps(value, sort_keys=True, default=str)
