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
from tests.tasks.push_helpers import Formatted, Formula, write_workbook


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


_NA = Formula("=NA()", "#N/A")


@pytest.mark.parametrize("probe", ["xlsx-xml", "calamine"])
@pytest.mark.parametrize(
    ("above", "first"),
    [
        ([[_NA]], 3),
        ([[None, _NA, Formula("=1/0", "#DIV/0!")]], 3),
        ([[], [_NA], [Formula('=VALUE("x")', "#VALUE!")]], 5),  # the sheet's first cell on row 2
    ],
    ids=["na", "na-and-div0", "empty-row-then-two-error-rows"],
)
def test_rows_of_only_excel_error_values_above_the_header_are_empty_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, probe: str, above: list[list[object]], first: int
) -> None:
    """A title row holding only `=NA()` was read as the header (`No email column found (columns:
    __UNNAMED__0, __UNNAMED__1)`): calamine reads an error value as no value, so such a row is as empty as a
    blank one or one of `=""`, and the header is the row under it. Rows keep their sheet row numbers."""
    from tasks import excel_source

    if probe == "calamine":
        monkeypatch.setattr(excel_source, "_xlsx_first_row", lambda *_: None)
    rows: list[list[object]] = [["email", "first_name"], ["a@x.co", "Ann"], [], ["b@x.co", "Bob"]]
    book = write_workbook(tmp_path / "export.xlsx", {"Leads": above + rows})
    frame = read_sheet(book, None, "export.xlsx", numbered=True)
    assert frame.columns == ["email", "first_name", "_source_row"]
    assert frame.rows() == [("a@x.co", "Ann", first), ("b@x.co", "Bob", first + 2)]
    assert read_sheet(book, None, "export.xlsx").columns == ["email", "first_name"]


def test_excel_error_values_in_data_cells_are_read_as_empty_cells_and_every_row_is_kept(
    tmp_path: Path,
) -> None:
    """`#N/A`, `#DIV/0!`, `#VALUE!` are what a formula failed to compute, not a value to send ("Hi #N/A"):
    read as empty cells, also in a date column, which stays a date column."""
    day = "yyyy-mm-dd"
    rows: list[list[object]] = [
        ["email", "first_name", "signup"],
        ["a@x.co", "Ann", Formatted(dt.datetime(2026, 1, 2), day)],
        ["b@x.co", Formula("=1/0", "#DIV/0!"), Formula("=NA()", "#N/A")],
        [_NA, "Cy", Formatted(dt.datetime(2026, 1, 3), day)],
        ["d@x.co", Formula('=VALUE("x")', "#VALUE!"), Formatted(dt.datetime(2026, 1, 4), day)],
    ]
    frame = read_sheet(
        write_workbook(tmp_path / "errors.xlsx", {"Leads": rows}), None, "e.xlsx", numbered=True
    )
    assert frame.schema["signup"] == pl.Date
    assert frame.rows() == [
        ("a@x.co", "Ann", dt.date(2026, 1, 2), 2),
        ("b@x.co", None, None, 3),
        (None, "Cy", dt.date(2026, 1, 3), 4),
        ("d@x.co", None, dt.date(2026, 1, 4), 5),
    ]
