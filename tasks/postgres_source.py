"""Postgres tables and queries as the extract's staging table (tasks/extract.py): the columns and the rows.

Rows are read with a server-side cursor in chunks of PG_CHUNK_ROWS and copied into a DuckDB table whose
column types follow the Postgres types (`_pg_type`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import duckdb

from ops_core.errors import OpsError, first_line
from ops_core.interface import bare_option, option
from ops_core.sql import quote_ident
from ops_core.urls import redact_url
from tasks import csv_source

if TYPE_CHECKING:
    from tasks.extract import SourceSpec

PG_CHUNK_ROWS = 10_000  # rows per fetchmany from the server-side cursor: bounded memory

__all__ = ["PG_CHUNK_ROWS", "columns", "load"]


# Postgres type OID -> DuckDB column type; anything else is stored as text (JSON for arrays and json/jsonb).
# numeric (1700) is decided by _pg_type from its declared precision.
_PG_TYPES = {
    16: "BOOLEAN",
    20: "BIGINT",
    21: "BIGINT",
    23: "BIGINT",
    700: "DOUBLE",
    701: "DOUBLE",
    1082: "DATE",
    1114: "TIMESTAMP",
    1184: "TIMESTAMPTZ",
}
_PG_NUMERIC = 1700
_DUCKDB_MAX_DECIMAL_DIGITS = 38  # DuckDB's DECIMAL holds at most 38 digits


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
        return str(value)  # exact: DuckDB casts the text to the column's DECIMAL(p,s)
    if value is None or duck_type != "VARCHAR":
        return float(value) if duck_type == "DOUBLE" and value is not None else value
    if isinstance(value, str):
        return value
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def _pg_connect(url: str) -> Any:
    import psycopg

    try:
        return psycopg.connect(url, connect_timeout=10)
    except psycopg.Error as exc:
        first = first_line(exc)
        raise OpsError(
            f"Cannot connect to Postgres at {redact_url(url)}: {first}",
            hint=f"check that the server is up and the URL or {bare_option('postgres_source')} credentials are right",
        ) from None


def _pg_select(spec: SourceSpec) -> Any:
    from psycopg import sql

    if spec.query:
        return sql.SQL(spec.query.strip().rstrip(";"))  # the user's own query, run with their credentials
    assert spec.table
    parts = spec.table.split(".")
    if len(parts) == 1:
        parts = [spec.schema, parts[0]]
    return sql.SQL("SELECT * FROM {}").format(sql.Identifier(*parts))


def _pg_rows(spec: SourceSpec) -> Iterator[tuple[list[tuple[str, str]], list[tuple[Any, ...]]]]:
    """Yield (columns as (name, duckdb type), chunk of rows), reading with a server-side cursor."""
    import psycopg

    with _pg_connect(spec.source) as con:
        try:
            with con.cursor(name="ops_instantly_extract") as cur:
                cur.itersize = PG_CHUNK_ROWS
                cur.execute(_pg_select(spec))
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
            first = first_line(exc)
            raise OpsError(
                f"Cannot read from Postgres {spec.display}: {first}",
                hint=f"check {option('table', 'query', conj='/')}",
            ) from None


def columns(spec: SourceSpec) -> list[str]:
    import psycopg
    from psycopg import sql

    with _pg_connect(spec.source) as con:
        try:
            cur = con.execute(sql.SQL("SELECT * FROM ({}) AS q LIMIT 0").format(_pg_select(spec)))
        except psycopg.Error as exc:
            first = first_line(exc)
            raise OpsError(
                f"Cannot read from Postgres {spec.display}: {first}",
                hint=f"check {option('table', 'query', conj='/')}",
            ) from None
        # Unique as a CSV header's: "Notes" and "notes" (or a query's two `x`) would be one column to DuckDB.
        return list(csv_source.column_names([d.name for d in cur.description or []]))


def load(spec: SourceSpec, con: duckdb.DuckDBPyConnection, staging: str) -> None:
    import polars as pl

    created = False
    for columns, rows in _pg_rows(spec):
        if not created:
            cols = ", ".join(f"{quote_ident(n)} {t}" for n, t in columns)
            con.execute(f"CREATE OR REPLACE TABLE {staging} ({cols})")
            created = True
        if not rows:
            continue
        data = {n: [_pg_value(r[i], t) for r in rows] for i, (n, t) in enumerate(columns)}
        frame = pl.DataFrame({n: pl.Series(n, v, strict=False) for n, v in data.items()})
        con.register("pg_chunk", frame)
        try:
            con.execute(f"INSERT INTO {staging} BY NAME SELECT * FROM pg_chunk")
        finally:
            con.unregister("pg_chunk")
