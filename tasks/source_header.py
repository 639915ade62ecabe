"""A source's header, read without copying a row: its columns and what the push refuses in them.

Prefect-free, so a command that runs no flow (`connect-table`) checks a source as the push will
(`check_header`), and `tasks/extract.py` (the `describe_source` task, the extract) uses the same rules.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from ops_core.errors import OpsError
from ops_core.interface import bare_option, capitalized, option, option_value, set_option
from ops_core.sources import duckdb_path, source_kind
from ops_core.sql import quote_literal, quote_qualified
from ops_core.text import quoted
from ops_core.urls import redact_url
from tasks import csv_source, excel_source, postgres_source
from tasks.mapping import (
    INTERNAL_COLUMNS,
    ROW_PROBLEM,
    SOURCE_ROW,
    ColumnMapping,
    MappingOverrides,
    detect_fields,
    resolve_mapping,
)
from warehouse.db import quiet
from warehouse.names import custom_variable_name, engagement_clash, ops_table_name

if TYPE_CHECKING:
    from warehouse.db import Warehouse

__all__ = [
    "HEADER_SEARCH_ROWS",
    "SOURCE_DB",
    "SourceSpec",
    "attach_relation",
    "check_header",
    "check_key_column",
    "duckdb_error",
    "header_columns",
    "header_mapping",
    "misplaced_header",
    "read_excel",
    "relation_columns",
    "source_columns",
    "source_file",
    "table_name_for",
]


HEADER_SEARCH_ROWS = 20  # our choice: how far down a file or sheet a header under a title is looked for


@dataclass(frozen=True)
class SourceSpec:
    """Where rows come from.

    Attributes:
        source: a CSV/Parquet path, `duckdb:///path.duckdb`, or a `postgresql://` URL (may hold a password).
        table: table to read (DuckDB, Postgres) and the warehouse name; optional for files.
        query: a Postgres query instead of a table.
        schema: default Postgres schema for an unqualified table.
        sheet: the sheet of an Excel workbook (default: the first).
    """

    source: str
    table: str | None = None
    query: str | None = None
    schema: str = "public"
    sheet: str | None = None

    @property
    def kind(self) -> str:
        return source_kind(self.source)

    @property
    def display(self) -> str:
        return redact_url(self.source)


def table_name_for(spec: SourceSpec) -> str:
    """The snake_case warehouse name: --table without its schema, else the file stem (pure)."""
    if spec.table:
        return ops_table_name(spec.table)
    if spec.kind in ("csv", "parquet", "excel"):
        base = Path(spec.source).name.split(".")[0]
    elif spec.query:
        base = "query"
    else:
        raise OpsError(
            f"{capitalized(option('table'))} is needed to read from {spec.display}.",
            hint=set_option("table", metavar="NAME", verb="add"),
        )
    return custom_variable_name(base)


def source_file(spec: SourceSpec) -> Path:
    path = Path(spec.source).expanduser()
    if path.is_dir():
        raise OpsError(
            f"{redact_url(str(path))} is a folder, not a file.",
            hint=f"pass the file inside it as {option('source')}",
        )
    if not path.is_file():  # e.g. a libpq `host=... password=...` string, shown without its password
        raise OpsError(
            f"No such file: {redact_url(str(path))}.", hint=f"check the {bare_option('source')} path"
        )
    return path


def read_excel(spec: SourceSpec, *, numbered: bool = False) -> Any:
    """The sheet as a polars DataFrame: every column as text like a CSV, dates as dates (tasks/excel_source.py),
    its columns named as a CSV's (calamine keeps "Notes" and "notes", which DuckDB takes for one name);
    `numbered`: then `_source_row`, the sheet's row number."""
    frame = excel_source.read_sheet(source_file(spec), spec.sheet, spec.display, numbered=numbered)
    data = [c for c in frame.columns if not (numbered and c == SOURCE_ROW)]
    return frame.rename(dict(zip(data, csv_source.column_names(data), strict=True)))


def duckdb_error(spec: SourceSpec, exc: duckdb.Error) -> OpsError:
    first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    hint = "check the delimiter and quoting (save it as UTF-8 CSV)" if spec.kind == "csv" else None
    return OpsError(f"Cannot read {spec.display}: {first}", hint=hint or "check the source")


def source_columns(spec: SourceSpec) -> list[str]:
    """The source's column names, read from its header or schema (no rows copied)."""
    if spec.kind == "postgres":
        return postgres_source.columns(spec)
    if spec.kind == "csv":
        return list(csv_source.read_layout(source_file(spec)).columns)
    if spec.kind == "excel":
        return [str(c) for c in read_excel(spec).columns]
    con = quiet(duckdb.connect())
    try:
        relation = attach_relation(con, spec, None)
        return relation_columns(con, relation)
    except duckdb.Error as exc:
        raise duckdb_error(spec, exc) from None
    finally:
        con.close()


# The name a DuckDB source file is attached under: not `src`, which a warehouse file named src.duckdb is.
SOURCE_DB = "ops_source_file"


def attach_relation(con: duckdb.DuckDBPyConnection, spec: SourceSpec, warehouse: Warehouse | None) -> str:
    if spec.kind == "parquet":
        return f"read_parquet({quote_literal(str(source_file(spec)))})"
    path = duckdb_path(spec.source)
    if not spec.table:
        raise OpsError(
            f"{capitalized(option('table'))} is needed to read from {spec.display}.",
            hint=set_option("table", metavar="NAME", verb="add"),
        )
    if warehouse is not None and warehouse.path is not None and path.resolve() == warehouse.path.resolve():
        return quote_qualified(spec.table)  # the warehouse itself: the connection is already on it
    if not path.is_file():
        raise OpsError(
            f"No such DuckDB file: {redact_url(str(path))}.", hint=f"check the {bare_option('source')} path"
        )
    con.execute(f"ATTACH {quote_literal(str(path))} AS {SOURCE_DB} (READ_ONLY)")
    return f"{SOURCE_DB}." + quote_qualified(spec.table)


def check_key_column(spec: SourceSpec, columns: list[str], key_column: str | None) -> None:
    """Refuse a key column the source does not have (the push's and `connect-table`'s one rule).

    Raises:
        OpsError: `key_column` is given and not one of `columns`; the hint lists some that are.
    """
    if key_column and key_column not in columns:
        raise OpsError(
            f"The {bare_option('key_column')} column {key_column!r} is not in {spec.display}.",
            hint=f"pick one of: {', '.join([c for c in columns if c not in INTERNAL_COLUMNS][:15])}",
        )


def _engagement_clash_error(spec: SourceSpec, clashes: dict[str, str]) -> OpsError:
    """The error for source columns named like the engagement views' own (`warehouse.names.engagement_clash`),
    raised before anything is copied or sent: else the views would show the source's value under our name (and
    ours as `<name>_1`), or leave the source's column out."""
    several = len(clashes) > 1
    it = "them" if several else "it"
    case = " (DuckDB ignores the case of column names)" if any(c != o for c, o in clashes.items()) else ""
    query = f" or select {it} under another name with {option('query')}" if spec.kind == "postgres" else ""
    stale = "they are stale copies" if several else "it is a stale copy"
    return OpsError(
        f"The source {spec.display} has {'columns' if several else 'a column'} named {', '.join(clashes)}, "
        f"which the engagement views of ops.{table_name_for(spec)} would take for their own "
        f"{', '.join(dict.fromkeys(clashes.values()))}{case}.",
        hint=f"rename {it} in the source{query}; delete {it} if {stale} of ours",
    )


# The internal columns whose source namesake would change what is pushed: a `_row_problem` made every row
# `invalid` ("<its value>; the row was not read"), a `_row_key` was silently replaced by ours, and so would a
# `_source_row` be (the line or row the push's reasons name). A source's
# `_loaded_at` / `_run_id` (a dbt model's) are replaced by ours in the copy and never sent
# (docs/lead-tables.md), as before.
_OURS = ("_row_key", SOURCE_ROW, ROW_PROBLEM)


# How DuckDB and calamine name a blank header cell (column_names: `column<i>`; calamine: `__UNNAMED__<i>`).
_BLANK_HEADER_CELL = re.compile(r"^(?:column|__UNNAMED__)\d+$")


def misplaced_header(spec: SourceSpec, columns: Sequence[str]) -> OpsError | None:
    """The error for a CSV file or Excel sheet whose first row is not its header (a title or notes above it):
    its first row (`columns`) has no email column, and one of its first HEADER_SEARCH_ROWS rows reads as a
    header that has one. None for other sources, a first row with an email column, or no such row.

    Raises:
        OpsError: the file or sheet cannot be read.
    """
    if spec.kind not in ("csv", "excel") or "email" in detect_fields(columns):
        return None
    if spec.kind == "csv":
        rows = csv_source.first_lines(source_file(spec), HEADER_SEARCH_ROWS)
    else:
        rows = excel_source.first_rows(source_file(spec), spec.sheet, spec.display, HEADER_SEARCH_ROWS)
    for number, cells in rows[1:]:
        names = [" ".join(c.split()) for c in cells if c.strip()]  # a cell over lines: shown on one line
        if "email" not in detect_fields(names):
            continue
        shown = ", ".join(names[:6]) + (" ..." if len(names) > 6 else "")
        first = (
            ", ".join(" ".join(c.split()) for c in columns[:3] if not _BLANK_HEADER_CELL.match(c)) or "blank"
        )
        top = rows[0][0]
        if spec.kind == "csv":
            where, unit = f"on line {number:,} ({shown}), not on line {top:,} ({first})", "lines"
        else:
            where = f"{number - top:,} row(s) below its first row with text ({shown}), not that row ({first})"
            unit = "rows"
        return OpsError(
            f"The header of {spec.display} is {where}, which has no email column.",
            hint=f"delete the {unit} above the header: a title, notes or blank {unit}; then push again",
        )
    if spec.kind == "excel" and not spec.sheet:
        return _leads_on_another_sheet(spec)
    return None


def _leads_on_another_sheet(spec: SourceSpec) -> OpsError | None:
    """The error for a workbook read at its first sheet (no --sheet) when that sheet has no email column and
    another one has it in its first HEADER_SEARCH_ROWS rows (a summary or cover sheet first), else None."""
    path = source_file(spec)
    names = excel_source.sheet_names(path, spec.display)
    for sheet in names[1:]:
        rows = excel_source.first_rows(path, sheet, spec.display, HEADER_SEARCH_ROWS)
        if any("email" in detect_fields([c.strip() for c in cells if c.strip()]) for _, cells in rows):
            return OpsError(
                f"The first sheet of {spec.display}, {names[0]!r}, has no email column; the sheet {sheet!r} "
                "has one.",
                hint=f"pick that sheet: {option_value('sheet', quoted(sheet))}",
            )
    return None


def relation_columns(con: duckdb.DuckDBPyConnection, relation: str) -> list[str]:
    con.execute(f"SELECT * FROM {relation} LIMIT 0")
    return [d[0] for d in con.description or []]


def header_columns(spec: SourceSpec) -> list[str]:
    """The source's columns, after refusing a header the push cannot use (no row read).

    Raises:
        OpsError: the source cannot be read, has no header, or has a column the warehouse adds itself
            (`_row_key` ...) or one the engagement views would take for their own (`engagement_clash`).
    """
    columns = source_columns(spec)
    if not columns or columns == ["column0"] or columns == ["__UNNAMED__0"]:
        raise OpsError(f"The source {spec.display} is empty (no header).", hint="check the file")
    taken = [c for c in columns if c.lower() in _OURS]
    if taken:
        raise OpsError(
            f"The source {spec.display} has a column named {taken[0]}, a column ops-instantly adds to "
            f"ops.{table_name_for(spec)} itself (its row key, the row's line or row in the source, or why a line "
            "could not be read).",
            hint="rename that column in the source"
            + (
                f", or select it under another name with {option('query')}" if spec.kind == "postgres" else ""
            ),
        )
    clashes = {c: ours for c in columns if (ours := engagement_clash(c))}
    if clashes:
        raise _engagement_clash_error(spec, clashes)
    return columns


def header_mapping(spec: SourceSpec, columns: list[str], overrides: MappingOverrides) -> ColumnMapping:
    """The mapping the push uses for these columns (`resolve_mapping`); a header under a title row is named
    as such rather than as "no email column".

    Raises:
        OpsError: no email column (or the header is misplaced), or a mapping naming a missing column.
    """
    if "email" not in overrides.fields:
        misplaced = misplaced_header(spec, columns)
        if misplaced is not None:
            raise misplaced
    return resolve_mapping(columns, overrides)


def check_header(spec: SourceSpec, overrides: MappingOverrides, key_column: str | None) -> None:
    """Refuse now what the push of this source would refuse in its header: the columns (`header_columns`),
    the mapping (`header_mapping`) and the key column (`check_key_column`). Reads no row.

    Raises:
        OpsError: as those do; `postgres_source.SourceUnreachableError` when the server cannot be reached.
    """
    columns = header_columns(spec)
    header_mapping(spec, columns, overrides)
    check_key_column(spec, columns, key_column)
