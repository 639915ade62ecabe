"""Excel sheets (.xlsx, .xlsm, .xlsb, .xls, .ods) as polars frames: every cell as text, like a CSV, except dates.

polars `read_excel` (calamine, via fastexcel) reads the sheet with every column as text, so a column mixing
numbers and words loses nothing and a number reads as Excel shows it ("1234", "12.5"). Excel has no date
type, only numbers formatted as dates, which text mode renders as "2026-11-30 00:00:00". So a column whose
text looks like dates and times is read once more with types (over the whole sheet, so a single text cell
keeps the column text): calamine knows which cells are dates, and polars makes a column whose times are all
00:00:00 a `Date` (the rest stay `Datetime`). The mapping then sends them as every source's dates are sent
(`tasks.mapping.coerce_scalar`): "2026-11-30", "2026-11-30T14:05:07".

Excel error values (`#N/A`, `#DIV/0!`, `#VALUE!` ...: a formula that failed) are read as empty cells, as
calamine reads them: a cell of one is blank in the lead, and a row of only such cells above the header is an
empty row (the header is the row under it), like a blank row or one of `=""`.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ops_core.errors import OpsError, first_line
from ops_core.interface import option
from tasks.mapping import SOURCE_ROW

if TYPE_CHECKING:
    import polars as pl

# How calamine names a header cell with no value (a blank cell, or an error value such as #N/A).
_UNNAMED = re.compile(r"^__UNNAMED__\d+$")
HEADER_PROBE_ROWS = 20  # our choice: how many rows of only error values above a header are looked through

# How calamine's text mode renders a date cell ("2026-11-30 00:00:00"; ISO in .ods files: "2026-11-30").
_DATE_TEXT = r"^\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"

__all__ = ["first_rows", "read_sheet", "sheet_names"]


def read_sheet(path: Path, sheet: str | None, display: str, *, numbered: bool = False) -> pl.DataFrame:
    """The sheet (default: the first) as a polars frame: text columns, and Date/Datetime for date columns.

    Rows that are empty in every column are left out.

    Args:
        numbered: add `_source_row`, each row's number as Excel shows it (blank rows and the rows above the
            header, the sheet's first row with a cell, counted).

    Raises:
        OpsError: the file or the sheet cannot be read (one line, naming `display` and the sheet).
    """
    import polars as pl

    text = _read(path, sheet, display, infer_schema_length=0, drop_empty_rows=False)
    header: dict[str, Any] = {}  # the header's sheet row, when it is not the first row with a cell
    above = _rows_of_no_value(path, sheet, display, text.columns)
    if above:
        header = {"read_options": {"header_row": _rows_above(path, sheet, display) + above}}
        text = _read(path, sheet, display, infer_schema_length=0, drop_empty_rows=False, **header)
    dated = [
        name
        for name, dtype in text.schema.items()
        if dtype == pl.String and _all_match(text[name], _DATE_TEXT)
    ]
    if dated:
        typed = _read(
            path, sheet, display, columns=dated, infer_schema_length=None, drop_empty_rows=False, **header
        )
        if typed.height == text.height:  # the same cells, read twice: the same rows
            text = text.with_columns(
                _time_of_day(typed[c]) for c in dated if typed[c].dtype in (pl.Date, pl.Datetime)
            )
    if not numbered:
        return text.filter(~pl.all_horizontal(pl.all().is_null()))
    first = _rows_above(path, sheet, display) + above + 2  # the sheet row under the header
    numbers = pl.int_range(first, first + text.height, dtype=pl.Int64).alias(SOURCE_ROW)
    return text.with_columns(numbers).filter(~pl.all_horizontal(pl.all().exclude(SOURCE_ROW).is_null()))


def _rows_of_no_value(path: Path, sheet: str | None, display: str, columns: list[str]) -> int:
    """How many rows at the top of the sheet's cells hold no value, when `columns` (read from the first) are
    all `__UNNAMED__<i>`; else 0. Such rows hold only error values (`#N/A`): calamine starts the sheet at
    them, as at any cell, but reads an error as no value. 0 also when none of the first rows has a value."""
    if not columns or not all(_UNNAMED.match(c) for c in columns):
        return 0
    rows = first_rows(path, sheet, display, HEADER_PROBE_ROWS)
    return rows[0][0] - 1 if rows else 0


def _rows_above(path: Path, sheet: str | None, display: str) -> int:
    """The empty rows above the sheet's first row with a cell (its header, unless `_rows_of_no_value`), which
    calamine starts at."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        found = _xlsx_first_row(path, sheet)
        if found is not None:
            return found - 1
    import fastexcel

    # Other formats: the sheet's height from its row 1, less its height from its first row with a cell
    # (two more readings of the sheet: .xls, .xlsb and .ods are rarely large).
    try:
        reader = fastexcel.read_excel(path)
        whole = reader.load_sheet(sheet or 0, header_row=None, skip_rows=0, n_rows=1).total_height
        used = reader.load_sheet(sheet or 0, header_row=None, n_rows=1).total_height
    except Exception as exc:  # fastexcel raises its own types
        raise _unreadable(path, display, exc) from None
    return max(0, whole - used)


_SHEET_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"


def _xlsx_first_row(path: Path, sheet: str | None) -> int | None:
    """The row number (1-based) of an .xlsx sheet's first cell with a value, read from the start of the
    sheet's XML (calamine reads the whole sheet to know it), or None when the workbook is not laid out as
    expected."""
    import zipfile
    from xml.etree import ElementTree

    try:
        with zipfile.ZipFile(path) as book:
            workbook = ElementTree.fromstring(book.read("xl/workbook.xml"))
            sheets = workbook.findall(f"{_SHEET_NS}sheets/{_SHEET_NS}sheet")
            chosen = next((s for s in sheets if s.get("name") == sheet), None) if sheet else sheets[0]
            if chosen is None:
                return None
            rels = ElementTree.fromstring(book.read("xl/_rels/workbook.xml.rels"))
            target = next((r.get("Target") for r in rels if r.get("Id") == chosen.get(f"{_REL_NS}id")), None)
            if target is None:
                return None
            name = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
            with book.open(name) as xml:
                for _, element in ElementTree.iterparse(xml):
                    if element.tag == f"{_SHEET_NS}c" and _holds_text(element):
                        digits = "".join(ch for ch in element.get("r", "") if ch.isdigit())
                        return int(digits) if digits else None
                    if element.tag == f"{_SHEET_NS}row":
                        element.clear()
    except (KeyError, IndexError, ValueError, OSError, zipfile.BadZipFile, ElementTree.ParseError):
        return None
    return None


def _holds_text(cell: Any) -> bool:
    """Whether a sheet XML cell (`<c>`) holds a value calamine reads: a non-empty `<v>` or inline string (a
    formula that returns "" stores `<v></v>`, a row calamine skips like an empty one)."""
    value = cell.find(f"{_SHEET_NS}v")
    if value is not None and value.text:
        return True
    inline = cell.find(f"{_SHEET_NS}is")
    return inline is not None and bool("".join(inline.itertext()))


# The day a time-only cell (a serial number below 1: "9:30") falls on once read as a date and time: calamine
# counts from 1899-12-31 (serial 1 is 1900-01-01); Excel's own day 0 is 1899-12-30.
_EXCEL_DAY_ZERO = (dt.date(1899, 12, 30), dt.date(1899, 12, 31))


def _time_of_day(column: pl.Series) -> pl.Series:
    """A Datetime column of time-only cells (every date on Excel's day zero) as a Time column, sent as
    "09:30:00"; any other column as it is. Before, "Best time to call" went out as "1899-12-31T09:30:00"."""
    import polars as pl

    values = column.drop_nulls()
    if column.dtype != pl.Datetime or values.is_empty() or not values.dt.date().is_in(_EXCEL_DAY_ZERO).all():
        return column
    return column.dt.time()


def first_rows(path: Path, sheet: str | None, display: str, count: int) -> list[tuple[int, list[str]]]:
    """Of the sheet's first `count` rows, those that are not empty, as (row number, 1-based from the first row
    of the sheet that has a cell, where calamine starts; cells as text, blanks as "").

    Raises:
        OpsError: the file or the sheet cannot be read.
    """
    frame = _read(
        path,
        sheet,
        display,
        has_header=False,
        infer_schema_length=0,
        drop_empty_rows=False,
        read_options={"n_rows": count},
    )
    out: list[tuple[int, list[str]]] = []
    for number, row in enumerate(frame.rows(), start=1):
        cells = ["" if cell is None else str(cell) for cell in row]
        if any(c.strip() for c in cells):
            out.append((number, cells))
    return out


def sheet_names(path: Path, display: str) -> list[str]:
    """The workbook's sheet names, in Excel's order.

    Raises:
        OpsError: the file is not a workbook calamine can open (one line, naming `display`).
    """
    import fastexcel

    try:
        return list(fastexcel.read_excel(path).sheet_names)
    except Exception as exc:  # fastexcel raises its own types
        raise _unreadable(path, display, exc) from None


def _not_a_workbook(path: Path, display: str) -> OpsError | None:
    """The error for a file with an Excel name that is really a web page or text, else None.

    Web apps (Salesforce's "formatted report", many CRMs) export HTML tables as `.xls`, and a CSV is often
    renamed `.xlsx`; calamine then says only "Invalid OLE" or "invalid Zip archive".
    """
    try:
        with path.open("rb") as fh:
            head = fh.read(4096)
    except OSError:
        return None
    if head.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):  # a zip (xlsx, ods) or OLE (xls) file
        return None
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith((b"<!doctype html", b"<html", b"<table", b"<?xml", b"<meta", b"<head", b"<body")):
        xml = text.startswith(b"<?xml") and b"<html" not in text
        kind = "an XML file (Excel 2003's XML Spreadsheet?)" if xml else "a web page (HTML)"
        why = "" if xml else " (web apps such as Salesforce export reports this way)"
        return OpsError(
            f"Cannot read {display}: it is {kind}, not an Excel workbook, though its name says so{why}.",
            hint="open it in Excel and save it as .xlsx or 'CSV UTF-8', then push that file",
        )
    if head and b"\x00" not in head:
        return OpsError(
            f"Cannot read {display}: it is a text file, not an Excel workbook, though its name says so.",
            hint="if it is a CSV, give it a .csv name",
        )
    return None


def _unreadable(path: Path, display: str, exc: Exception) -> OpsError:
    return _not_a_workbook(path, display) or OpsError(
        f"Cannot read {display}: {first_line(exc)}", hint="check the file: is it an Excel workbook?"
    )


def _all_match(column: pl.Series, pattern: str) -> bool:
    values = column.drop_nulls()
    return len(values) > 0 and bool(values.str.contains(pattern).all())


def _read(path: Path, sheet: str | None, display: str, **options: Any) -> pl.DataFrame:
    import polars as pl

    try:
        frame: pl.DataFrame = (
            pl.read_excel(path, sheet_name=sheet, engine="calamine", **options)
            if sheet
            else pl.read_excel(path, sheet_id=1, engine="calamine", **options)
        )
        return frame
    except Exception as exc:  # fastexcel raises its own types; each becomes one line
        if not sheet:
            raise _unreadable(path, display, exc) from None
        names = sheet_names(path, display)  # raises for a file that is no workbook
        if sheet not in names:
            raise OpsError(
                f"{display} has no sheet {sheet!r}; its sheets: {', '.join(map(repr, names))}.",
                hint=f"pass one of them as {option('sheet')}, as Excel shows it: case and spaces count",
            ) from None
        raise OpsError(
            f"Cannot read sheet {sheet!r} of {display}: {first_line(exc)}", hint="check the file"
        ) from None
