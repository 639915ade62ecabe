"""Excel sheets (tasks/excel_source.py): every cell as text like a CSV, date columns as dates; real files."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from ops_core.errors import OpsError
from tasks.excel_source import read_sheet
from tasks.lead_frame import LeadFrames, parse_lead
from tasks.mapping import resolve_mapping
from tests.tasks.push_helpers import Formatted, write_workbook


def _book(path: Path) -> Path:
    day, stamp = "yyyy-mm-dd", "yyyy-mm-dd hh:mm"
    text = "2026-03-04 00:00:00"  # a text cell, not a date
    return write_workbook(
        path,
        {
            "People": [
                ["email", "signup", "met_at", "mixed", "typed_as_text", "zip"],
                [
                    "a@x.co",
                    Formatted(dt.datetime(2026, 11, 30), day),
                    Formatted(dt.datetime(2026, 11, 30, 14, 5, 7), stamp),
                    Formatted(dt.datetime(2026, 1, 1), day),
                    text,
                    1234,
                ],
                [
                    "b@x.co",
                    Formatted(dt.datetime(2026, 1, 2), day),
                    Formatted(dt.datetime(2026, 1, 2), stamp),
                    "n/a",
                    text,
                    1234,
                ],
                [],
                ["c@x.co"],  # after an empty row, which is left out
            ]
        },
    )


def test_a_date_column_is_a_date_a_datetime_column_keeps_its_time_and_the_rest_stay_text(
    tmp_path: Path,
) -> None:
    frame = read_sheet(_book(tmp_path / "people.xlsx"), None, "people.xlsx")
    assert frame.schema["signup"] == pl.Date and frame.schema["met_at"] == pl.Datetime("ms")
    assert frame["signup"].to_list() == [dt.date(2026, 11, 30), dt.date(2026, 1, 2), None]
    assert frame["met_at"].to_list()[:2] == [dt.datetime(2026, 11, 30, 14, 5, 7), dt.datetime(2026, 1, 2)]
    assert frame["mixed"].to_list() == ["2026-01-01 00:00:00", "n/a", None]  # a text cell keeps it text
    assert frame["typed_as_text"].to_list() == ["2026-03-04 00:00:00", "2026-03-04 00:00:00", None]
    assert frame["zip"].to_list() == ["1234", "1234", None]  # numbers as Excel shows them, as before
    assert frame["email"].to_list() == ["a@x.co", "b@x.co", "c@x.co"]


def test_excel_dates_are_sent_as_iso_dates_and_datetimes_with_their_time(tmp_path: Path) -> None:
    # Sent as "2026-11-30 00:00:00": the text calamine makes of a date cell.
    frame = read_sheet(_book(tmp_path / "people.xlsx"), "People", "people.xlsx")
    mapping = resolve_mapping(frame.columns)
    raw = frame.head(1).select(
        pl.lit(0).alias("rowid"),
        pl.col("email").alias("row_key"),
        *[pl.col(c).alias(f"c{i}") for i, c in enumerate(mapping.columns)],
    )
    rows = LeadFrames(mapping, key_given=False).prepare(raw, mapping.columns)
    lead = parse_lead(rows["lead"][0])
    assert lead["custom_variables"]["signup"] == "2026-11-30"
    assert lead["custom_variables"]["met_at"] == "2026-11-30T14:05:07"


def test_an_unknown_sheet_is_a_one_line_error_naming_the_sheets(tmp_path: Path) -> None:
    # Was: "Cannot read sheet 'Nope' of people.xlsx: no matching sheet found when `sheet_name` is 'Nope'".
    with pytest.raises(OpsError, match="people.xlsx has no sheet 'people'; its sheets: 'People'.") as raised:
        read_sheet(_book(tmp_path / "people.xlsx"), "people", "people.xlsx")
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize(
    ("content", "said"),
    [
        # Salesforce's "formatted report" and many CRMs export an HTML table named .xls.
        (b"\n<html><body><table><tr><td>Email</td></tr></table></body></html>", "it is a web page"),
        (
            b'<?xml version="1.0"?><Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet"/>',
            "XML file",
        ),
        (b"Email,Name\na@x.co,A\n", "it is a text file, not an Excel workbook"),
    ],
)
def test_a_file_with_an_excel_name_that_is_no_workbook_says_what_it_is(
    tmp_path: Path, content: bytes, said: str
) -> None:
    path = tmp_path / "report.xls"
    path.write_bytes(content)
    with pytest.raises(OpsError, match=said) as raised:
        read_sheet(path, None, "report.xls")
    assert "Invalid OLE" not in str(raised.value) and "\n" not in str(raised.value)
