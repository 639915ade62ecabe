"""Postgres tables and queries as the extract's staging table (tasks/extract.py): the columns and the rows.

Rows are read with a server-side cursor in chunks of PG_CHUNK_ROWS and copied into a DuckDB table whose
column types follow the Postgres types (`_pg_type`).

Row order decides which of two rows with one email (or key) is pushed: the first (tasks/validate.py). A
table is read in an order that depends only on its content (`_pg_select`), so an UPDATE that changes
nothing, which moves the row on disk, does not change what is pushed. A query is read in its own order: its
ORDER BY decides.

Dates, timestamps, `bytea` and `interval` are read as the server's text (`_PG_AS_TEXT`), not as psycopg's
Python objects. `bytea` and `interval` are stored as that text: `\\xdeadbeef`, `1 day 02:00:00` (the
server's IntervalStyle). Dates and timestamps are cast by DuckDB from their ISO text to DATE, TIMESTAMP or
TIMESTAMPTZ, so `infinity` and `-infinity` become DuckDB's infinite values, as DuckDB's own postgres scanner
reads them, and are sent as the text `infinity` / `-infinity` (tasks/lead_frame.py). So are times, ranges,
records and network addresses, whose Python objects print otherwise than Postgres (`_PG_TEXT_OUTPUT`).
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import duckdb

from ops_core.errors import OpsError, first_line
from ops_core.interface import bare_option, option
from ops_core.sql import quote_ident
from ops_core.urls import redact_url
from tasks import csv_source
from tasks.mapping import json_text

if TYPE_CHECKING:
    import polars as pl

    from tasks.source_header import SourceSpec

PG_CHUNK_ROWS = 10_000  # rows per fetchmany from the server-side cursor: bounded memory

__all__ = ["PG_CHUNK_ROWS", "SourceUnreachableError", "columns", "load"]

_PG_BYTEA, _PG_DATE, _PG_TIMESTAMP, _PG_TIMESTAMPTZ, _PG_INTERVAL = 17, 1082, 1114, 1184, 1186
_PG_NUMERIC = 1700

# Postgres type OID -> DuckDB column type; anything else is stored as text (JSON for arrays and json/jsonb).
# numeric is decided by _pg_type from its declared precision.
_PG_TYPES = {
    16: "BOOLEAN",
    20: "BIGINT",
    21: "BIGINT",
    23: "BIGINT",
    700: "DOUBLE",
    701: "DOUBLE",
    _PG_DATE: "DATE",
    _PG_TIMESTAMP: "TIMESTAMP",
    _PG_TIMESTAMPTZ: "TIMESTAMPTZ",
}
_DATE_TYPES = ("DATE", "TIMESTAMP", "TIMESTAMPTZ")
_DUCKDB_MAX_DECIMAL_DIGITS = 38  # DuckDB's DECIMAL holds at most 38 digits

# Types read as the server's text output (psycopg's TextLoader), alone and as elements of arrays. psycopg's
# own objects cannot hold `infinity` or a year past 9999 (it refused the whole table), and their str() is
# Python's (`b'\xde\xad'`, `1 day, 2:00:00`), not the text Postgres shows.
# The same for the types whose Python objects print otherwise than Postgres: time and timetz
# (`10:00:01.500000`, `10:00:00+02:00` for `10:00:01.5`, `10:00:00+02`), an anonymous record or composite (a
# tuple's repr, `('1', 'a')`, for `(1,a)`), ranges and multiranges (`[1, 5)` for `[1,5)`), inet and cidr.
_PG_TEXT_OUTPUT = {
    "time": 1083, "timetz": 1266, "record": 2249, "inet": 869, "cidr": 650,
    "int4range": 3904, "int8range": 3926, "numrange": 3906, "tsrange": 3908, "tstzrange": 3910,
    "daterange": 3912, "int4multirange": 4451, "int8multirange": 4536, "nummultirange": 4532,
    "tsmultirange": 4533, "tstzmultirange": 4534, "datemultirange": 4535,
}  # fmt: skip
_PG_AS_TEXT = (_PG_BYTEA, _PG_DATE, _PG_TIMESTAMP, _PG_TIMESTAMPTZ, _PG_INTERVAL, *_PG_TEXT_OUTPUT.values())
# The output formats that text depends on, for this read's transaction only (SET LOCAL). DateStyle ISO sets
# the output format alone (a DMY input order stays); bytea_output is output only; TimeZone only how a
# timestamptz is written (the same instant).
_PG_OUTPUT_SETTINGS = (
    "SET LOCAL DateStyle = 'ISO'",
    "SET LOCAL bytea_output = 'hex'",
    # timestamptz text (in ranges and arrays, which stay text) in UTC, whatever the session's TimeZone (PGTZ):
    # as every source's timestamps with a zone are sent (mapping.iso_text).
    "SET LOCAL TimeZone = 'UTC'",
)
# Postgres's ISO text of a date or timestamp of the years 1-9999, or +/-infinity: what DuckDB reads back
# exactly and a lead's date (Python's) can hold. A BC date ends in " BC", which DuckDB would read as AD.
_PG_DATE_TEXT = (
    r"^(?:-?infinity|\d{4}-\d{2}-\d{2}(?: \d{2}:\d{2}:\d{2}(?:\.\d{1,6})?(?:[+-]\d{2}(?::\d{2}){0,2})?)?)$"
)
# A table's primary key columns in key order (%s: its quoted, qualified name); none for a view.
_PRIMARY_KEY_SQL = """
SELECT a.attname
FROM pg_index AS i
CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, n)
JOIN pg_attribute AS a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
WHERE i.indrelid = %s::regclass AND i.indisprimary
ORDER BY k.n
"""


def _pg_type(type_code: int, precision: int | None, scale: int | None) -> str:
    """The DuckDB column type for a Postgres column (pure), as DuckDB's own postgres scanner maps it.

    `numeric(p,s)` is kept exact as DECIMAL(p,s) up to 38 digits (an id in `numeric(30,0)` must not round
    to a float), and as its text beyond; a `numeric` without a declared precision is DOUBLE.
    """
    if type_code != _PG_NUMERIC:
        return _PG_TYPES.get(type_code, "VARCHAR")
    if precision is None:
        return "DOUBLE"
    if precision <= _DUCKDB_MAX_DECIMAL_DIGITS:
        return f"DECIMAL({precision},{scale or 0})"
    return "VARCHAR"


def _pg_value(value: Any, duck_type: str) -> Any:
    if value is not None and duck_type.startswith("DECIMAL"):
        if isinstance(value, Decimal) and not value.is_finite():
            # A numeric 'NaN' or 'Infinity' fits no DECIMAL (the whole table was refused): null, as a
            # non-finite float is sent (mapping._jsonable).
            return None
        return str(value)  # exact: DuckDB casts the text to the column's DECIMAL(p,s)
    if value is None or duck_type != "VARCHAR":
        return float(value) if duck_type == "DOUBLE" and value is not None else value
    if isinstance(value, str):
        return value
    if isinstance(value, list | dict):
        return json_text(value)  # arrays and json/jsonb: valid JSON, NaN as null
    return str(value)


class SourceUnreachableError(OpsError):
    """No Postgres server answered (refused, timed out, unknown host): from another machine, a worker on the
    database's network may still read it. A server that answers with a refusal (no such database or role, a
    wrong password) raises a plain OpsError: that answer is the same from anywhere."""


def _pg_connect(url: str) -> Any:
    import psycopg

    try:
        return psycopg.connect(url, connect_timeout=10)
    except psycopg.Error as exc:
        first = first_line(exc)
        # libpq gives no SQLSTATE for a failed connection; a server's own refusal is the text it sent,
        # which libpq quotes after `FATAL:` (`database "x" does not exist`, `password authentication failed`).
        error = OpsError if "FATAL:" in str(exc) else SourceUnreachableError
        raise error(
            f"Cannot connect to Postgres at {redact_url(url)}: {first}",
            hint=f"check that the server is up and the URL or {bare_option('postgres_source')} credentials are right",
        ) from None


def _pg_select(con: Any, spec: SourceSpec) -> Any:
    """The SELECT that reads the source: the query as written (its ORDER BY decides the row order), or every
    column of the table in an order that its content alone decides.

    A table is ordered by its primary key, else by the text of the whole row in byte order
    (`ROW(ops_row.*)::text COLLATE "C"`: every type has a text form, json and point too, which have no order
    of their own). Without an ORDER BY rows come in physical order, which an UPDATE that changes nothing
    changes.

    Raises:
        psycopg.Error: the table does not exist (the caller says so in one line).
    """
    from psycopg import sql

    if spec.query:
        return sql.SQL(spec.query.strip().rstrip(";"))  # the user's own query, run with their credentials
    assert spec.table
    parts = spec.table.split(".")
    if len(parts) == 1:
        parts = [spec.schema, parts[0]]
    table = sql.Identifier(*parts)
    key = [row[0] for row in con.execute(_PRIMARY_KEY_SQL, [table.as_string(con)]).fetchall()]
    order: sql.Composable
    if key:
        order = sql.SQL(", ").join(sql.Identifier("ops_row", k) for k in key)
    else:
        order = sql.SQL('ROW(ops_row.*)::text COLLATE "C"')
    return sql.SQL("SELECT * FROM {} AS ops_row ORDER BY {}").format(table, order)


def _read_error(spec: SourceSpec, exc: Exception) -> OpsError:
    return OpsError(
        f"Cannot read from Postgres {spec.display}: {first_line(exc)}",
        hint=f"check {option('table', 'query', conj='/')}",
    )


def _pg_rows(spec: SourceSpec) -> Iterator[tuple[list[tuple[str, str]], list[tuple[Any, ...]]]]:
    """Yield (columns as (name, duckdb type), chunk of rows), reading with a server-side cursor.

    Values of the `_PG_AS_TEXT` types come as the server's text (ISO dates, hex bytea), others as psycopg
    loads them.

    Raises:
        OpsError: the table or query cannot be read (one line, the URL without its password).
    """
    import psycopg
    from psycopg.types.string import TextLoader

    with _pg_connect(spec.source) as con:
        for oid in _PG_AS_TEXT:
            con.adapters.register_loader(oid, TextLoader)
        try:
            for setting in _PG_OUTPUT_SETTINGS:
                con.execute(setting)
            select = _pg_select(con, spec)
            with con.cursor(name="ops_instantly_extract") as cur:
                cur.itersize = PG_CHUNK_ROWS
                cur.execute(select)
                described = cur.description or []
                names = csv_source.column_names([d.name for d in described])  # as columns() does
                types = [_pg_type(d.type_code, d.precision, d.scale) for d in described]
                columns = list(zip(names, types, strict=True))
                yielded = False
                while rows := cur.fetchmany(PG_CHUNK_ROWS):
                    yielded = True
                    yield columns, rows
                if not yielded:
                    yield columns, []
        except psycopg.Error as exc:
            raise _read_error(spec, exc) from None


def columns(spec: SourceSpec) -> list[str]:
    """The source's column names as its copy names them, from the SELECT that `load` runs (no row read).

    Raises:
        OpsError: the server is unreachable, or the table or query cannot be read (one line).
    """
    import psycopg
    from psycopg import sql

    with _pg_connect(spec.source) as con:
        try:
            select = _pg_select(con, spec)
            cur = con.execute(sql.SQL("SELECT * FROM ({}) AS q LIMIT 0").format(select))
        except psycopg.Error as exc:
            raise _read_error(spec, exc) from None
        # Unique as a CSV header's: "Notes" and "notes" (or a query's two `x`) would be one column to DuckDB.
        return list(csv_source.column_names([d.name for d in cur.description or []]))


def load(spec: SourceSpec, con: duckdb.DuckDBPyConnection, staging: str) -> None:
    """Copy the source's rows, in `_pg_select`'s order, into the DuckDB table `staging` (created here).

    Raises:
        OpsError: the source cannot be read, or a date or timestamp is outside the years 1-9999 (its column
            and row named, with how to read it as text).
    """
    import polars as pl

    created = False
    before = 0  # rows read before this chunk
    for described, rows in _pg_rows(spec):
        if not created:
            cols = ", ".join(f"{quote_ident(n)} {t}" for n, t in described)
            con.execute(f"CREATE OR REPLACE TABLE {staging} ({cols})")
            created = True
        if not rows:
            continue
        data = {n: [_pg_value(r[i], t) for r in rows] for i, (n, t) in enumerate(described)}
        frame = pl.DataFrame({n: pl.Series(n, v, strict=False) for n, v in data.items()})
        _refuse_unreadable_dates(spec, frame, [n for n, t in described if t in _DATE_TYPES], before)
        con.register("pg_chunk", frame)
        try:
            # Dates and timestamps are text here: DuckDB casts them to the column's type, infinity included.
            con.execute(f"INSERT INTO {staging} BY NAME SELECT * FROM pg_chunk")
        finally:
            con.unregister("pg_chunk")
        before += len(rows)


def _refuse_unreadable_dates(spec: SourceSpec, frame: pl.DataFrame, names: list[str], before: int) -> None:
    """Refuse the first date or timestamp of a chunk that is not `_PG_DATE_TEXT` (a BC date, a year past
    9999), naming its column and its row (`before` rows came before the chunk).

    Raises:
        OpsError: such a value, in one line.
    """
    import polars as pl

    for name in names:
        column = frame[name]
        if column.dtype != pl.Utf8:
            continue  # every value NULL
        bad = (column.is_not_null() & ~column.str.contains(_PG_DATE_TEXT)).arg_true()
        if len(bad):
            at = int(bad[0])
            raise OpsError(
                f"Cannot read from Postgres {spec.display}: column {name!r} holds {column[at]!r} in row "
                f"{before + at + 1:,}, outside the years 1-9999 that a lead's dates can hold.",
                hint=f"leave the column out, or read it as text with {option('query')} "
                f"(SELECT ..., {quote_ident(name)}::text AS {quote_ident(name)})",
            )
