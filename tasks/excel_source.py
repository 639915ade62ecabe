"""Excel sheets (.xlsx, .xlsm, .xlsb, .xls, .ods) as polars frames: every cell as text, like a CSV, except dates.

polars `read_excel` (calamine, via fastexcel) reads the sheet with every column as text, so a column mixing
numbers and words loses nothing and a number reads as Excel shows it ("1234", "12.5"). Excel has no date
type, only numbers formatted as dates, which text mode renders as "2026-11-30 00:00:00". So a column whose
text looks like dates and times is read once more with types (over the whole sheet, so a single text cell
keeps the column text): calamine knows which cells are dates, and polars makes a column whose times are all
00:00:00 a `Date` (the rest stay `Datetime`). The mapping then sends them as every source's dates are sent
(`tasks.mapping.coerce_scalar`): "2026-11-30", "2026-11-30T14:05:07".
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from ops_core.errors import OpsError, first_line
from ops_core.interface import option

if TYPE_CHECKING:
    import polars as pl

# How calamine's text mode renders a date cell ("2026-11-30 00:00:00"; ISO in .ods files: "2026-11-30").
_DATE_TEXT = r"^\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"

__all__ = ["first_rows", "read_sheet"]


def read_sheet(path: Path, sheet: str | None, display: str) -> pl.DataFrame:
    """The sheet (default: the first) as a polars frame: text columns, and Date/Datetime for date columns.

    Rows that are empty in every column are left out.

    Raises:
        OpsError: the file or the sheet cannot be read (one line, naming `display` and the sheet).
    """
    import polars as pl

    text = _read(path, sheet, display, infer_schema_length=0, drop_empty_rows=False)
    dated = [
        name
        for name, dtype in text.schema.items()
        if dtype == pl.String and _all_match(text[name], _DATE_TEXT)
    ]
    if dated:
        typed = _read(path, sheet, display, columns=dated, infer_schema_length=None, drop_empty_rows=False)
        if typed.height == text.height:  # the same cells, read twice: the same rows
            text = text.with_columns(typed[c] for c in dated if typed[c].dtype in (pl.Date, pl.Datetime))
    return text.filter(~pl.all_horizontal(pl.all().is_null()))


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


def _all_match(column: pl.Series, pattern: str) -> bool:
    values = column.drop_nulls()
    return len(values) > 0 and bool(values.str.contains(pattern).all())


def _read(path: Path, sheet: str | None, display: str, **options: Any) -> pl.DataFrame:
    import polars as pl

    try:
        if sheet:
            return pl.read_excel(path, sheet_name=sheet, engine="calamine", **options)
        return pl.read_excel(path, sheet_id=1, engine="calamine", **options)
    except Exception as exc:  # fastexcel raises its own types; each becomes one line
        which = f"sheet {sheet!r} of " if sheet else ""
        raise OpsError(
            f"Cannot read {which}{display}: {first_line(exc)}",
            hint=f"check the file and {option('sheet')} (the sheet's name as Excel shows it)",
        ) from None
