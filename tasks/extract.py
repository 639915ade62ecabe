"""Extract an Ops table (CSV, Excel, Parquet, DuckDB or Postgres) into the warehouse as `ops.<table>`.

The copy keeps every source column and adds `_row_key` (the --key column as text, else the normalised email),
`_source_row` (where a user finds the row in their source: the file line a CSV row starts on, the sheet row of
an Excel row, else the 1-based position in the order read; the push's reasons name it), `_row_problem` (why a
CSV line could not be read as a row, else NULL: see tasks/csv_source.py), `_loaded_at` and `_run_id`. It
replaces the previous copy in one transaction, so a crash leaves the old one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
from prefect import task
from prefect.cache_policies import NONE

from ops_core.emails import email_key_sql
from ops_core.errors import OpsError
from ops_core.interface import option, option_value, set_option
from ops_core.sources import absolute_source, same_file, source_kind
from ops_core.sql import quote_ident, quote_qualified
from ops_core.text import has_text_sql, quoted
from ops_core.urls import redact_url, url_key
from tasks import csv_source, postgres_source
from tasks.csv_source import detect_encoding
from tasks.mapping import INTERNAL_COLUMNS, ROW_PROBLEM, SOURCE_ROW
from tasks.source_header import (
    SOURCE_DB,
    SourceSpec,
    attach_relation,
    check_key_column,
    duckdb_error,
    header_columns,
    misplaced_header,
    read_excel,
    relation_columns,
    source_file,
    table_name_for,
)
from warehouse.db import NO_DICTIONARY_COMPRESSION, Warehouse, in_transaction, table_exists
from warehouse.merge import upsert_row
from warehouse.views import create_engagement_views

EMPTY_SAMPLE_ROWS = 2_048  # columns with text in these first rows are not empty (_empty_columns)

__all__ = [
    "ExtractedTable",
    "SourceSpec",
    "absolute_source",
    "check_key_column",
    "describe_source",
    "detect_encoding",
    "extract_source",
    "misplaced_header",
    "redact_url",
    "refuse_another_source",
    "source_kind",
]


@dataclass(frozen=True)
class ExtractedTable:
    """The warehouse copy of a source: `ops.<name>` with row_count rows."""

    name: str
    row_count: int
    columns: tuple[str, ...]
    key_column: str | None
    email_column: str
    empty_columns: tuple[str, ...] = ()  # source columns with no non-blank value in any row
    # What reasons call `_source_row`: "line" for a CSV file (the line a row starts on), else "row".
    place: str = "row"


def _load_csv(
    spec: SourceSpec, con: duckdb.DuckDBPyConnection, staging: str, keep_on_error: list[str]
) -> str:
    """Copy a CSV file into `staging` (every column VARCHAR, plus `_row_problem`); return the relation to
    read it from, with `_source_row`, the line each row starts on.

    The fixed-option DuckDB reader first (a cell over lines that holds the delimiter: its rows over
    lines looked at by the csv module, which refuses lines a stray quote swallowed); if it refuses the file,
    or the file is not UTF-8, the row-by-row reader, which keeps the good rows and reports each bad line
    (tasks/csv_source.py). `keep_on_error` starts with the email column.

    The row-by-row reader knows the line each row starts on. For DuckDB's copy, the lines come from the
    empty lines it skipped (a scan of the bytes) when no cell spans lines, else from the csv module: without
    an empty line between rows (nearly every file), a row's line is the header's plus its position; else the
    lines are joined to the rows by position (`_CSV_LINES`, registered on `con` until the caller
    unregisters it).
    """
    path = source_file(spec)
    layout = csv_source.read_layout(path)
    if not layout.columns:
        raise OpsError(f"The source {spec.display} is empty (no header).", hint="check the file")
    if layout.utf8:
        try:
            con.execute(
                f"CREATE OR REPLACE TABLE {staging} AS SELECT *, CAST(NULL AS VARCHAR) AS {ROW_PROBLEM} "
                f"FROM {csv_source.duckdb_read_csv(path, layout)}"
            )
            lines = _duckdb_row_lines(con, staging, path, layout, keep_on_error[0])
            if isinstance(lines, int):  # one row a line from line `lines` on: a row's line is its position's
                return f"(SELECT *, CAST(rowid + {lines} AS BIGINT) AS {SOURCE_ROW} FROM {staging})"
            if lines is not None:
                con.register(_CSV_LINES, lines.to_frame())
                return f"(SELECT * FROM {staging} POSITIONAL JOIN {_CSV_LINES})"
        except duckdb.InvalidInputException:
            pass  # a line DuckDB will not read: the row-by-row reader says which, and keeps the rest
    import pyarrow as pa

    cols = ", ".join(f"{quote_ident(c)} VARCHAR" for c in [*layout.columns, ROW_PROBLEM])
    con.execute(f"CREATE OR REPLACE TABLE {staging} ({cols}, {SOURCE_ROW} BIGINT)")
    names = [*layout.columns, ROW_PROBLEM, SOURCE_ROW]
    types = [pa.string()] * (len(names) - 1) + [pa.int64()]
    for rows in csv_source.read_rows(path, layout, keep_on_error, email_column=keep_on_error[0]):
        batch = pa.table(
            {
                f"c{i}": pa.array(list(col), kind)
                for i, (col, kind) in enumerate(zip(zip(*rows, strict=True), types, strict=True))
            }
        )
        con.register("csv_chunk", batch)
        try:
            select = ", ".join(f"c{i} AS {quote_ident(n)}" for i, n in enumerate(names))
            con.execute(f"INSERT INTO {staging} BY NAME SELECT {select} FROM csv_chunk")
        finally:
            con.unregister("csv_chunk")
    return staging


_CSV_LINES = "csv_row_lines"  # the frame of `_source_row` joined to DuckDB's copy of a CSV by position


def _duckdb_row_lines(
    con: duckdb.DuckDBPyConnection, staging: str, path: Path, layout: csv_source.CsvLayout, email_column: str
) -> Any:
    """The line each row of DuckDB's copy of a CSV (`staging`) starts on, as a polars Series; the line of its
    first row when the rows are the lines after it, one a line; or None when the csv module reads the file
    otherwise than DuckDB did (the row-by-row reader then reads it)."""
    import polars as pl

    # A cell with a line break: its row spans lines. Without one (nearly every file), every row is one line
    # and the lines DuckDB skipped are the empty ones.
    breaks = " OR ".join(
        f"contains({quote_ident(c)}, chr(10)) OR contains({quote_ident(c)}, chr(13))" for c in layout.columns
    )
    spans = con.execute(f"SELECT 1 FROM {staging} WHERE {breaks} LIMIT 1").fetchone() is not None
    counted = con.execute(f"SELECT count(*) FROM {staging}").fetchone()
    rows = counted[0] if counted else 0
    header = csv_source.header_line(layout)
    if not spans and csv_source.count_lines(path) == header + rows:  # no empty line below the header
        return header + 1
    blanks = None if spans else csv_source.blank_lines(path, header)
    if blanks is not None and csv_source.consecutive_rows(header, blanks, rows):
        return header + 1
    if blanks is not None:
        return csv_source.row_lines(header, blanks, rows)
    # A cell with a line break and the delimiter may be lines two stray quotes merged, silently: only the csv
    # module sees the lines, and tells that from a cell spanning lines on purpose.
    spanning = csv_source.spanning_cells_sql(layout)
    if spans and con.execute(f"SELECT 1 FROM {staging} WHERE {spanning} LIMIT 1").fetchone() is not None:
        starts: list[int] = []
        if not csv_source.no_swallowed_lines(path, layout, email_column, starts):
            return None
        lines: pl.Series | None = pl.Series(SOURCE_ROW, starts, dtype=pl.Int64)
    else:
        lines = csv_source.record_lines(path, layout)
    return lines if lines is not None and len(lines) == rows else None


def _load_excel(spec: SourceSpec, con: duckdb.DuckDBPyConnection, staging: str) -> None:
    frame = read_excel(spec, numbered=True)
    con.register("excel_sheet", frame)
    try:
        con.execute(f"CREATE OR REPLACE TABLE {staging} AS SELECT * FROM excel_sheet")
    finally:
        con.unregister("excel_sheet")


# -- tasks ------------------------------------------------------------------------------------------------


@task(name="describe_source", retries=0, cache_policy=NONE)
def describe_source(spec: SourceSpec) -> list[str]:
    """The source's columns, so the mapping can be resolved before anything is copied (`header_columns`)."""
    return header_columns(spec)


_STAGING_DB = "ops_staging"  # the in-memory database a file's extract stages its source in


@task(name="extract_source", retries=0, cache_policy=NONE)
def extract_source(
    spec: SourceSpec, warehouse: Warehouse, *, email_column: str, key_column: str | None, run_id: str
) -> ExtractedTable:
    """Copy the source into `ops.<table>` with `_row_key`, `_source_row`, `_loaded_at` and `_run_id`; record it.

    Raises:
        OpsError: unreadable source, unknown --key column, no rows, or ops.<table> holds another source.
    """
    name = table_name_for(spec)
    target = f"ops.{quote_ident(name)}"
    # Staged outside the warehouse, in an in-memory database (the lake connection's own; for a file, one
    # attached for it), so the file does not write and compress every row twice (1.0 s of 6.8 s of CPU for
    # 1,000,000 CSV rows).
    staging = ("memory" if warehouse.lake else _STAGING_DB) + f".main.{quote_ident('_staging_' + name)}"
    if key_column:
        row_key = f"NULLIF(CAST({quote_ident(key_column)} AS VARCHAR), '')"
    else:
        row_key = email_key_sql(f"CAST({quote_ident(email_column)} AS VARCHAR)")
    with warehouse.connect() as con:
        con.execute(NO_DICTIONARY_COMPRESSION)  # the copy's text is mostly unique: emails, names, notes
        _refuse_another_source(con, name, spec)
        if not warehouse.lake:
            con.execute(f"ATTACH IF NOT EXISTS ':memory:' AS {_STAGING_DB}")
        try:
            if spec.kind == "postgres":
                postgres_source.load(spec, con, staging)
                relation = staging
            elif spec.kind == "csv":
                relation = _load_csv(spec, con, staging, [c for c in (email_column, key_column) if c])
            elif spec.kind == "excel":
                _load_excel(spec, con, staging)
                relation = staging
            else:
                relation = attach_relation(con, spec, warehouse)
            columns = [c for c in relation_columns(con, relation)]
            problem = ROW_PROBLEM if ROW_PROBLEM in columns else f"CAST(NULL AS VARCHAR) AS {ROW_PROBLEM}"
            place = _source_row_sql(spec)
            check_key_column(spec, columns, key_column)
            keep = ", ".join(quote_ident(c) for c in columns if c not in INTERNAL_COLUMNS)
            source = [c for c in columns if c not in INTERNAL_COLUMNS]
            where = _not_blank_row_sql(spec, sorted(source, key=lambda c: c != email_column))
            # One transaction: a failed or empty extract leaves the previous copy (and its views) intact.
            try:
                for attempt in warehouse.retrying():  # a DuckLake conflict runs it again
                    with attempt, in_transaction(con):
                        con.execute(
                            f"CREATE OR REPLACE TABLE {target} AS SELECT {keep}, {row_key} AS _row_key, "
                            f"{place}, {problem}, now() AS _loaded_at, CAST(? AS VARCHAR) AS _run_id FROM {relation}{where}",
                            [run_id],
                        )
                        counted = con.execute(f"SELECT count(*) FROM {target}").fetchone()
                        count = counted[0] if counted else 0
                        empty = _empty_columns(con, target, [c for c in columns if c not in INTERNAL_COLUMNS])
                        if count == 0:
                            raise OpsError(_no_rows(spec), hint="check the file, table or query")
                        source_row: dict[str, Any] = {
                            "table_name": name,
                            "source": _recorded_source(spec),
                            "key_column": key_column,
                        }
                        source_row |= {"email_column": email_column, "row_count": count}
                        source_row |= {"extracted_at": datetime.now(UTC), "run_id": run_id}
                        source_row |= dict(
                            zip(("source_table", "source_query"), source_relation(spec), strict=True)
                        )
                        upsert_row(con, "ops.source_tables", ["table_name"], source_row)
                        # The engagement views follow the table's columns: rebuild them with it.
                        create_engagement_views(con)
            finally:
                if spec.kind in ("postgres", "csv", "excel"):
                    con.execute(f"DROP TABLE IF EXISTS {staging}")
                if spec.kind == "csv":
                    con.unregister(_CSV_LINES)
        except duckdb.Error as exc:
            raise duckdb_error(spec, exc) from None
        finally:
            if spec.kind == "duckdb" and _attached(con):
                con.execute(f"DETACH {SOURCE_DB}")
    return ExtractedTable(
        name=name,
        row_count=int(count),
        columns=tuple(c for c in columns if c not in INTERNAL_COLUMNS),
        key_column=key_column,
        email_column=email_column,
        empty_columns=empty,
        place="line" if spec.kind == "csv" else "row",
    )


def _recorded_source(spec: SourceSpec) -> str:
    """What ops.source_tables records as a table's source: a file by its absolute path (a relative one typed
    in another folder names another file, and would pass `_same_source`), else without its password
    (`url_key`: the name stays the same whatever messages show of a password)."""
    if spec.kind in ("csv", "parquet", "excel"):
        return str(Path(spec.source).expanduser().resolve())
    return url_key(spec.source)


def _no_rows(spec: SourceSpec) -> str:
    """What an extract that found no rows says, naming what it read (pure): the table of a database (as
    ops.source_tables records it), its query, a workbook's sheet, or the file."""
    table, query = source_relation(spec)
    if table:
        return f"The source table {table} in {spec.display} has no rows."
    if query:
        return f"The query on {spec.display} returns no rows."
    if spec.sheet:
        return f"The sheet {quoted(spec.sheet)} of {spec.display} has no rows."
    return f"The source {spec.display} has no rows."


def _same_source(recorded: str, spec: SourceSpec) -> bool:
    """Whether `recorded` (ops.source_tables.source) names the source of `spec` (files compared by real path)."""
    if recorded == url_key(spec.source):
        return True
    return spec.kind in ("csv", "parquet", "excel") and same_file(recorded, spec.source)


def refuse_another_source(warehouse: Warehouse, spec: SourceSpec) -> None:
    """What `extract_source` refuses first, checked on a read-only connection (a dry run writes nothing).

    Raises:
        OpsError: the warehouse's ops.<table> was extracted from another source.
    """
    if warehouse.exists():
        with warehouse.connect(read_only=True) as con:
            _refuse_another_source(con, table_name_for(spec), spec)


def source_relation(spec: SourceSpec) -> tuple[str | None, str | None]:
    """(table, query) of a database source as ops.source_tables records them (pure): the table as read,
    `schema.table` with its case (Postgres: the default schema added; DuckDB: `main`), or the --query SQL.
    (None, None) for a file."""
    if spec.kind == "postgres":
        if spec.query:
            return None, spec.query.strip().rstrip(";").strip()
        assert spec.table
        return (spec.table if "." in spec.table else f"{spec.schema}.{spec.table}"), None
    if spec.kind == "duckdb" and spec.table:
        return (spec.table if "." in spec.table else f"main.{spec.table}"), None
    return None, None


def _select_all_sql(table: str) -> str:
    """`SELECT * FROM "schema"."Table"` in single quotes, as a shell takes it (pure)."""
    return "'" + f"SELECT * FROM {quote_qualified(table)}".replace("'", "'\\''") + "'"


def _shown_source(source: str, table: str | None, query: str | None) -> str:
    """A recorded source as a message names it: the URL or path, and which table or query (pure)."""
    if table:
        return f"{redact_url(source)} (table {table})"
    return f"{redact_url(source)} (a query)" if query else redact_url(source)


def _refuse_another_source(con: duckdb.DuckDBPyConnection, name: str, spec: SourceSpec) -> None:
    """Refuse to replace `ops.<name>` with rows from a source other than the one it was extracted from: another
    file, database, or table or query of the same database.

    Raises:
        OpsError: ops.<name> was recorded from another source (named without its password).
    """
    _refuse_a_warehouse_name(con, name)
    cur = con.execute("SELECT * FROM ops.source_tables WHERE table_name = ?", [name])
    found = cur.fetchone()
    if found is None:
        return
    row = dict(zip([d[0] for d in cur.description or []], found, strict=True))
    recorded = (row.get("source_table"), row.get("source_query"))  # absent before migration 0014
    relation = source_relation(spec)
    if _same_source(row["source"], spec) and (recorded == (None, None) or recorded == relation):
        return
    table, query = relation
    if spec.kind == "postgres" and table:
        hint = (
            f"read it under another name: {option_value('query', _select_all_sql(table))} and "
            f"{option_value('table', 'OTHER_NAME')} (ops.{name} stays as it is)"
        )
    elif spec.kind == "duckdb":
        hint = f"push it to another warehouse ({option('warehouse')}); ops.{name} stays as it is"
    else:
        hint = f"{set_option('table', metavar='OTHER_NAME')} to keep both under another name (ops.{name} stays as it is)"
    raise OpsError(
        f"ops.{name} already holds {_shown_source(row['source'], *recorded)}, not "
        f"{_shown_source(spec.source, table, query)}; refusing to replace it.",
        hint=hint,
    )


def _refuse_a_warehouse_name(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """Refuse a source table named like one of the warehouse's own tables or views in schema `ops` (the push
    ledger, `push_results`, `connections`, `sync_runs`, another table's engagement views ...), or whose
    engagement views would be named like a source table: its copy would replace that table (a LinkedIn export
    is `Connections.csv`) and break every later push and sync.

    Raises:
        OpsError: one line naming the clash and how to name the table otherwise.
    """
    sources = {r[0] for r in con.execute("SELECT table_name FROM ops.source_tables").fetchall()}
    views = [f"{name}_engagement", f"{name}_engagement_by_campaign"]
    if name not in sources and table_exists(con, "ops", name):
        why = f"ops.{name} is one of the warehouse's own tables or views"
    elif clash := next((v for v in views if v in sources), None):
        why = f"the engagement views of ops.{name} would replace the source table ops.{clash}"
    else:
        return
    raise OpsError(
        f"Cannot extract the source into ops.{name}: {why}.",
        hint=f"{set_option('table', metavar='OTHER_NAME')} to name it otherwise (e.g. {name}_leads)",
    )


def _not_blank_row_sql(spec: SourceSpec, columns: Sequence[str]) -> str:
    """A WHERE clause leaving out the rows of a CSV file or Excel sheet that are blank in every column, or ""
    for other sources (pure).

    Spreadsheets leave such rows behind (`,,,,` lines Excel writes for formatted empty rows, formulas that
    return ""); they are not leads, and would be `invalid` rows ("missing email") in every push. A CSV line
    that could not be read (`_row_problem`) is kept. The email column goes first: the check ends there for
    almost every row.
    """
    if spec.kind not in ("csv", "excel"):
        return ""
    checks = [has_text_sql(f"CAST({quote_ident(c)} AS VARCHAR)") for c in dict.fromkeys(columns)]
    if spec.kind == "csv":
        checks.append(f"{ROW_PROBLEM} IS NOT NULL")
    return " WHERE " + " OR ".join(f"coalesce({check}, false)" for check in checks)


def _source_row_sql(spec: SourceSpec) -> str:
    """`... AS _source_row`: where a user finds each row in their source (pure). A CSV's and a sheet's
    staging copy has it (the line the row starts on, the sheet's row number); other sources are numbered
    1, 2, ... in the order read (a Postgres source's staging copy holds that order)."""
    if spec.kind in ("csv", "excel"):
        return SOURCE_ROW
    if spec.kind == "postgres":
        return f"CAST(rowid + 1 AS BIGINT) AS {SOURCE_ROW}"
    return f"CAST(row_number() OVER () AS BIGINT) AS {SOURCE_ROW}"


def _empty_columns(con: duckdb.DuckDBPyConnection, target: str, columns: list[str]) -> tuple[str, ...]:
    """The columns of `target` that are NULL or blank in every row.

    Blank as Python's str.strip() sees it (mapping.coerce_scalar), not SQL's trim(), which keeps tabs. A
    column with text in one of the first EMPTY_SAMPLE_ROWS rows is not empty, so only the others are scanned
    whole: one scan of every column cost 15% of a 1,000,000-row CSV extract (bench/README.md).
    """
    undecided = columns
    for rows in (f"(SELECT * FROM {target} LIMIT {EMPTY_SAMPLE_ROWS})", target):
        if not undecided:
            break
        found = ", ".join(f"bool_or({has_text_sql(f'CAST({quote_ident(c)} AS VARCHAR)')})" for c in undecided)
        row = con.execute(f"SELECT {found} FROM {rows}").fetchone() or ()
        undecided = [c for c, text in zip(undecided, row, strict=True) if not text]
    return tuple(undecided)


def _attached(con: duckdb.DuckDBPyConnection) -> bool:
    try:
        row = con.execute("SELECT count(*) FROM duckdb_databases() WHERE database_name = ?", [SOURCE_DB])
        found = row.fetchone()
        return bool(found and found[0])
    except duckdb.Error:
        return False
