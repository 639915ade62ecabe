"""`push --dry-run` as a user runs it: it writes nothing (no warehouse file, no migration) and reads an
existing warehouse only to refuse what the push would refuse. No campaign, so no API and no Prefect."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import pytest

from tasks.extract import SourceSpec, extract_source
from tests.cli._cli_helpers import assert_one_line_error, run_cli
from tests.tasks.push_helpers import Formatted, query, write_workbook
from warehouse.db import Warehouse


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty folder for the warehouse, OPS_WAREHOUSE naming a file in it, and another current folder."""
    (tmp_path / "cwd").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")
    (tmp_path / "wh").mkdir()
    monkeypatch.setenv("OPS_WAREHOUSE", str(tmp_path / "wh" / "warehouse.duckdb"))
    return tmp_path / "wh"


def _leads(path: Path, rows: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("email,first_name\n" + "".join(f"u{i}@example.com,N{i}\n" for i in range(rows)))
    return path


def _flat(text: str) -> str:
    return " ".join(text.split())  # rich wraps a table's title to the table's width


def _state(*folders: Path) -> dict[str, str]:
    return {
        str(p): hashlib.sha256(p.read_bytes()).hexdigest()
        for folder in folders
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_a_dry_run_creates_no_warehouse(
    folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Was: the dry run created and migrated the warehouse, and copied the source into it.
    source = _leads(tmp_path / "in" / "leads.csv", 3)
    result = run_cli(capsys, "push", "--dry-run", "--source", str(source))
    assert result.code == 0, result.err
    assert "Mapping of ops.leads (3 rows)" in _flat(result.out) and "Validation: valid: 3" in result.out
    assert result.out.splitlines()[0].strip() == "Mapping of ops.leads (3 rows)"  # not wrapped to the table
    assert list(folder.iterdir()) == [] and list((tmp_path / "cwd").iterdir()) == []


def test_a_dry_run_only_reads_an_existing_warehouse(
    folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = _leads(tmp_path / "in" / "leads.csv", 2)
    wh = Warehouse(folder / "warehouse.duckdb")
    extract_source.fn(SourceSpec(str(source)), wh, email_column="email", key_column=None, run_id="r1")
    before = _state(folder)

    _leads(source, 5)  # the table grew: the dry run shows the new rows, the warehouse keeps the old copy
    result = run_cli(capsys, "push", "--dry-run", "--source", str(source))
    assert result.code == 0, result.err
    assert "Mapping of ops.leads (5 rows)" in _flat(result.out) and "Validation: valid: 5" in result.out
    # Another file of the same name: refused as the push would refuse it, from a read-only look.
    other = _leads(tmp_path / "elsewhere" / "leads.csv", 1)
    refused = run_cli(capsys, "push", "--dry-run", "--source", str(other))
    assert_one_line_error(refused, "ops.leads already holds", "refusing to replace it")

    assert _state(folder) == before
    assert query(folder / "warehouse.duckdb", "SELECT count(*) FROM ops.leads") == [(2,)]


def test_a_dry_run_with_a_mistyped_warehouse_folder_is_a_one_line_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OPS_WAREHOUSE", str(tmp_path / "typo-dir" / "nested" / "ops-data.duckdb"))
    source = _leads(tmp_path / "leads.csv", 1)
    result = run_cli(capsys, "push", "--dry-run", "--source", str(source))
    assert_one_line_error(result, "typo-dir/nested does not exist")
    assert not (tmp_path / "typo-dir").exists()


def test_a_dry_run_shows_excel_dates_as_iso_dates(
    folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # What the dry run prints is what the push sends (the same mapping, after the same warehouse round trip).
    signup, met = dt.datetime(2026, 11, 30), dt.datetime(2026, 11, 30, 9, 15)
    book = write_workbook(
        tmp_path / "fair.xlsx",
        {
            "Sheet1": [
                ["email", "Signup Date", "Met At"],
                ["ana@example.com", Formatted(signup, "d mmm yyyy"), Formatted(met, "hh:mm")],
            ]
        },
    )
    result = run_cli(capsys, "push", "--dry-run", "--source", str(book))
    assert result.code == 0, result.err
    assert '"met_at": "2026-11-30T09:15:00", "signup_date": "2026-11-30"' in result.out


def test_a_dry_run_shows_excel_times_of_day_as_times(
    folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Was: "best_time": "1899-12-31T09:30:00" (a time-only cell is a date on Excel's day zero).
    book = write_workbook(
        tmp_path / "calls.xlsx",
        {
            "Sheet1": [
                ["email", "Best Time", "Called At"],
                [
                    "ana@example.com",
                    Formatted(dt.datetime(1899, 12, 31, 9, 30), "hh:mm"),
                    Formatted(dt.datetime(2026, 11, 30, 9, 30), "hh:mm"),  # a date shown as a time: kept
                ],
                ["bo@example.com", Formatted(0.75, "hh:mm")],  # 18:00, typed as a number
            ]
        },
    )
    result = run_cli(capsys, "push", "--dry-run", "--source", str(book))
    assert result.code == 0, result.err
    assert '"best_time": "09:30:00", "called_at": "2026-11-30T09:30:00"' in result.out
    assert '"best_time": "18:00:00"' in result.out


def test_a_header_under_a_title_row_is_named_by_its_line_not_missing(
    folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Was: "No email column found (columns: Leads export - November 2026). (name the column with a mapping
    # file ..., or check the delimiter and encoding of the file)": neither would help.
    source = tmp_path / "export.csv"
    source.write_text("Leads export - November 2026\n\nEmail;First Name\nana@example.com;Ana\n")
    result = run_cli(capsys, "push", "--dry-run", "--source", str(source))
    assert_one_line_error(
        result,
        "export.csv is on line 3 (Email, First Name), not on line 1 (Leads export - November",
        "delete the lines above the header",
    )


def test_a_header_under_a_title_row_of_a_sheet_is_named_by_how_far_down_it_is(
    folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    book = write_workbook(
        tmp_path / "export.xlsx",
        {
            "Leads": [
                ["Leads export - November 2026"],
                [],
                ["Work Email", "Company"],
                ["ana@example.com", "Acme"],
            ]
        },
    )
    result = run_cli(capsys, "push", "--dry-run", "--source", str(book))
    assert_one_line_error(
        result,
        "export.xlsx is 2 row(s) below its first row with text (Work Email, Company)",
        "delete the rows above the header",
    )


def test_a_workbook_whose_leads_are_not_on_its_first_sheet_names_the_sheet_that_has_them(
    folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Was: "No email column found (columns: Export summary, __UNNAMED__1)": a cover sheet came first.
    book = write_workbook(
        tmp_path / "export.xlsx",
        {
            "Summary": [["Export summary", "", "rows: 1"]],
            "Notes": [["nothing"]],
            "Leads Q4": [["Email", "Company"], ["ana@example.com", "Acme"]],
        },
    )
    result = run_cli(capsys, "push", "--dry-run", "--source", str(book))
    assert_one_line_error(
        result,
        "The first sheet of " + str(book) + ", 'Summary', has no email column; the sheet 'Leads Q4' has one.",
        "--sheet 'Leads Q4'",
    )


def test_a_mapping_that_names_the_email_column_is_not_second_guessed_by_the_header_search(
    folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A first row with an unusual email header, a later row that looks like a header: the mapping decides.
    source = tmp_path / "odd.csv"
    source.write_text("Adresse,Note\nana@example.com,email\nbo@example.com,x\n")
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text("fields: {email: Adresse}\n")
    result = run_cli(capsys, "push", "--dry-run", "--source", str(source), "--mapping", str(mapping))
    assert result.code == 0, result.err
    assert "Validation: valid: 2" in result.out


def test_the_mapping_shows_column_names_as_written(
    folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Was: rich read `[internal]` as markup and showed `Notes`, and a header cell over two lines looked like
    # two columns, the second mapped to nothing; `(1 rows)`.
    source = tmp_path / "in" / "odd.csv"
    source.parent.mkdir()
    source.write_text('"Email\nAddress",Notes [internal],[bold]Score[/bold]\nbad-email [x],a,5\n')
    result = run_cli(capsys, "push", "--dry-run", "--source", str(source))
    assert result.code == 0, result.err
    assert "Mapping of ops.odd (1 row)" in _flat(result.out)
    lines = result.out.splitlines()
    assert any("Email\\nAddress" in line and "email" in line for line in lines), result.out
    assert any("Notes [internal]" in line and "custom_variables.notes_internal" in line for line in lines)
    assert any("[bold]Score[/bold]" in line for line in lines)
    assert not any(line.strip("│ ").startswith("Address") for line in lines)
