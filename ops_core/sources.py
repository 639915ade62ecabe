"""Where a push reads a table from, as text: the kind of a source and a file's absolute path (pure, no Prefect:
`connect-table` uses it without starting one).

Sources: a CSV, Excel or Parquet path; `duckdb:///path.duckdb` (or a path ending in .duckdb); a Postgres URL.
"""

from __future__ import annotations

from pathlib import Path

from ops_core.errors import OpsError
from ops_core.interface import option
from ops_core.urls import redact_url

__all__ = ["absolute_source", "duckdb_path", "same_file", "source_kind"]

_CSV_SUFFIXES = (".csv", ".tsv", ".txt", ".csv.gz", ".tsv.gz")
_PARQUET_SUFFIXES = (".parquet", ".pq")
_EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xlsb", ".xls", ".ods")  # what calamine (fastexcel) reads


def source_kind(source: str) -> str:
    """`postgres`, `duckdb`, `parquet`, `excel` or `csv` (pure)."""
    lowered = source.lower()
    if lowered.startswith(("postgresql://", "postgres://", "postgresql+psycopg://")):
        return "postgres"
    if lowered.startswith("duckdb://") or lowered.endswith((".duckdb", ".ddb")):
        return "duckdb"
    if lowered.endswith(_PARQUET_SUFFIXES):
        return "parquet"
    if lowered.endswith(_CSV_SUFFIXES):
        return "csv"
    if lowered.endswith(_EXCEL_SUFFIXES):
        return "excel"
    raise OpsError(
        f"Cannot tell what kind of source {redact_url(source)!r} is.",
        hint="use a .csv, .xlsx or .parquet path, duckdb:///path.duckdb or postgresql://user@host/db",
    )


def duckdb_path(source: str) -> Path:
    """The file of duckdb:///abs/path.duckdb or duckdb://rel/path.duckdb (pure)."""
    rest = source[len("duckdb://") :] if source.lower().startswith("duckdb://") else source
    return Path(rest).expanduser()


def same_file(recorded: str, source: str) -> bool:
    """Whether two sources as written name one thing: the same text, or two file paths (no `://`) with one
    real path, a relative one taken from the current folder (as `absolute_source` takes it). A push given
    `leads.csv` records that text, `connect-table` the absolute path of the same file.
    """
    if recorded == source:
        return True
    if "://" in recorded or "://" in source:
        return False
    return Path(recorded).expanduser().resolve() == Path(source).expanduser().resolve()


def absolute_source(source: str) -> str:
    """`source` with a file's path made absolute (from the current folder), for a connection that a worker
    reads from another folder; URLs other than duckdb:// unchanged.

    Raises:
        OpsError: the file does not exist, or is a folder (one line, naming it).
    """
    kind = source_kind(source)
    if kind == "postgres":
        return source
    duckdb_url = source.lower().startswith("duckdb://")
    path = (duckdb_path(source) if duckdb_url else Path(source).expanduser()).resolve()
    if not any(c in str(path) for c in "*?["):  # a Parquet glob names no one file
        if path.is_dir():
            raise OpsError(
                f"{redact_url(str(path))} is a folder, not a file.",
                hint=f"pass the file inside it as {option('source')}",
            )
        if not path.is_file():
            raise OpsError(
                f"No such file: {redact_url(str(path))}.", hint=f"check the {option('source')} path"
            )
    return f"duckdb://{path}" if duckdb_url else str(path)
