"""Helpers for the push tests: sandbox campaigns and state, a messy Ops table with its expected leads, and
source files."""

from __future__ import annotations

import csv
import datetime as dt
import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import duckdb
import httpx

HEADER = ["Email Address", "First Name", "last name", "Company", "Job Title", "Signup Date", "Tags", "Score",
          "Notes (internal)"]  # fmt: skip
CAMPAIGN_BODY = {
    "campaign_schedule": {
        "schedules": [
            {"name": "Weekdays", "timing": {"from": "09:00", "to": "17:00"},
             "days": {str(d): d in range(1, 6) for d in range(7)}, "timezone": "America/Detroit"}
        ]
    }
}  # fmt: skip
# ... with one email step: a campaign that sends once activated (the sandbox's `advance` then makes engagement).
CAMPAIGN_WITH_STEPS = {
    **CAMPAIGN_BODY,
    "sequences": [
        {"steps": [{"type": "email", "delay": 2, "variants": [{"subject": "Hi", "body": "Hello"}]}]}
    ],
}


def make_campaign(sandbox: Any, name: str) -> str:
    """Create a campaign in the sandbox over HTTP; returns its id."""
    resp = httpx.post(
        f"{sandbox.base_url}/campaigns",
        json={"name": name, **CAMPAIGN_BODY},
        headers={"Authorization": f"Bearer {sandbox.api_key}"},
    )
    assert resp.status_code == 200, resp.text
    return str(resp.json()["id"])


def campaign_leads(sandbox: Any, campaign_id: str) -> list[dict[str, Any]]:
    """The sandbox's raw leads of a campaign (its own state, not the API)."""
    resp = httpx.get(f"{sandbox.url}/_sandbox/leads", params={"campaign_id": campaign_id})
    return list(resp.json()["items"])


def request_count(sandbox: Any, key: str = "POST /api/v2/leads/add") -> int:
    """Requests the sandbox served for one route (faulted ones before routing are not counted)."""
    return int(httpx.get(f"{sandbox.url}/_sandbox/stats").json()["per_path"].get(key, 0))


def set_faults(sandbox: Any, **knobs: Any) -> None:
    resp = httpx.post(f"{sandbox.url}/_sandbox/faults", json=knobs)
    assert resp.status_code == 200, resp.text


def query(path: Path | str, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    """Run SQL on the warehouse (a file, read-only the way an analyst would; or a DuckLake URL)."""
    if str(path).startswith("ducklake:"):
        from blocks import resolve_warehouse

        with resolve_warehouse(path=str(path)).connect(read_only=True) as lake:
            return lake.execute(sql, params or []).fetchall()
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


@dataclass
class MessyTable:
    """Rows as written to the source, and what must end up in the campaign."""

    rows: list[dict[str, Any]]
    expected: dict[str, dict[str, Any]] = field(default_factory=dict)  # email -> first valid row
    invalid: int = 0
    duplicates: int = 0


def messy_table(n: int, seed: int = 1) -> MessyTable:
    """`n` rows with blanks, invalid emails and case/space-variant duplicates (about 2% + 2% + 4%)."""
    rng = random.Random(seed)
    table = MessyTable(rows=[])
    for i in range(n):
        email: str | None = f"Person{i}@Company{i % 97}.example.com"
        if i % 50 == 7:
            email = None if i % 100 == 7 else "   "
        elif i % 50 == 8:
            email = f"not-an-email-{i}"
        elif i % 25 == 3 and i > 25:
            j = i - 3 - 25 * rng.randint(0, 1)
            email = f"  {f'Person{j}@Company{j % 97}.example.com'.upper()} "
        row = {
            "Email Address": email,
            "First Name": f"Fïrst{i}",
            "last name": f"Last{i}" if i % 3 else None,
            "Company": f"Company {i % 97}",
            "Job Title": "CTO" if i % 2 else "Founder",
            "Signup Date": dt.date(2024, 1, 1) + dt.timedelta(days=i % 365),
            "Tags": ["ops", f"t{i % 5}"] if i % 4 else [],
            "Score": i,
            "Notes (internal)": f'said "hi", {i}' if i % 10 == 0 else None,
        }
        table.rows.append(row)
        key = (email or "").strip().lower()
        if not key or "@" not in key:
            table.invalid += 1
        elif key in table.expected:
            table.duplicates += 1
        else:
            table.expected[key] = row
    return table


def write_csv(path: Path, table: MessyTable, *, encoding: str = "utf-8-sig") -> Path:
    """A CSV with a BOM (by default), dates as ISO text and lists as JSON text."""
    with path.open("w", newline="", encoding=encoding) as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        for row in table.rows:
            writer.writerow([_csv_value(row[c]) for c in HEADER])
    return path


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return json.dumps(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


class Formatted(NamedTuple):
    """A workbook cell shown with an Excel number format, e.g.
    `Formatted(dt.datetime(2026, 11, 30), "d mmm yyyy")`."""

    value: Any
    num_format: str


class Formula(NamedTuple):
    """A workbook cell holding a formula and the value Excel last computed for it, e.g. an error value:
    `Formula("=NA()", "#N/A")` (stored as `<c t="e">`, as Excel saves it)."""

    formula: str
    value: Any


def write_workbook(path: Path, sheets: dict[str, list[list[Any]]]) -> Path:
    """An .xlsx written with xlsxwriter: one sheet per item of `sheets`, in order, its rows from the first
    column (`[]` is an empty row). Each cell is written as xlsxwriter's `write` types it (None and "" leave it
    blank), a `Formatted` one with its number format, a `Formula` with its value. Returns `path`."""
    import xlsxwriter

    with xlsxwriter.Workbook(str(path)) as book:
        formats: dict[str, Any] = {}
        for name, rows in sheets.items():
            sheet = book.add_worksheet(name)
            for r, row in enumerate(rows):
                for c, cell in enumerate(row):
                    if isinstance(cell, Formatted):
                        if cell.num_format not in formats:
                            formats[cell.num_format] = book.add_format({"num_format": cell.num_format})
                        sheet.write(r, c, cell.value, formats[cell.num_format])
                    elif isinstance(cell, Formula):
                        sheet.write_formula(r, c, cell.formula, None, cell.value)
                    else:
                        sheet.write(r, c, cell)
    return path


def assert_campaign_matches(leads: list[dict[str, Any]], table: MessyTable) -> None:
    """Exactly the expected leads, once each, with their fields and custom variables."""
    emails = [lead["email"] for lead in leads]
    assert len(emails) == len(set(emails)), "a lead is in the campaign twice"
    assert set(emails) == set(table.expected), (
        f"missing {sorted(set(table.expected) - set(emails))[:5]}, extra {sorted(set(emails) - set(table.expected))[:5]}"
    )
    for lead in leads[:: max(1, len(leads) // 200)]:  # a spread of leads, field by field
        row = table.expected[lead["email"]]
        payload = lead["payload"]
        assert payload.get("firstName") == row["First Name"]
        assert payload.get("lastName") == row["last name"]
        assert payload.get("companyName") == row["Company"]
        assert payload.get("jobTitle") == row["Job Title"]
        assert payload["signup_date"] == row["Signup Date"].isoformat()
        assert json.loads(payload["tags"]) == row["Tags"]
        assert str(payload["score"]) == str(row["Score"])
        assert payload.get("notes_internal") == row["Notes (internal)"]
