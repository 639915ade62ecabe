"""The DuckLake backend's own rules: where it is, how DuckDB opens it offline, and what its DDL may say.

A DuckLake keeps its catalog in a database many processes share (here Postgres) and its data in Parquet
files under a data path (a shared folder or an object store). DuckDB reads and writes it through two
extensions, `ducklake` and `postgres_scanner`, which this project installs from PyPI wheels
(`duckdb-extension-ducklake`, `duckdb-extension-postgres-scanner`, pinned with duckdb in constraints.txt)
and LOADs from the installed files: DuckDB is never allowed to download an extension at run time.

DuckLake has no PRIMARY KEY, UNIQUE or index and no sequences; concurrent transactions are optimistic and
one of two that touch the same data fails at COMMIT with a "Transaction conflict", to be run again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import duckdb

from ops_core.errors import OpsError
from ops_core.sql import quote_literal
from ops_core.urls import redact_passwords

LAKE_PREFIX = "ducklake:"
# Seconds to wait for the catalog's Postgres to answer when connecting (libpq `connect_timeout`), unless the
# URL sets its own: an unreachable catalog fails in seconds, not after the network's own timeout.
CONNECT_TIMEOUT_SECONDS = 5
CATALOG = "lake"  # the name the warehouse's DuckLake is attached as; `USE lake` makes `ops.x` resolve in it

# Extension name -> the PyPI wheel (import name) that ships its file for this duckdb version.
EXTENSION_WHEELS = {
    "ducklake": "duckdb_extension_ducklake",
    "postgres_scanner": "duckdb_extension_postgres_scanner",
}

# An in-process DuckDB that never reaches for the network: LOADing a known extension by name (or a
# statement that needs one) would otherwise try INSTALL from extensions.duckdb.org.
OFFLINE_CONFIG = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}

_INLINE_PK = re.compile(r"\s+PRIMARY\s+KEY\b(?!\s*\()", re.IGNORECASE)
_TABLE_PK = re.compile(r",\s*PRIMARY\s+KEY\s*\([^)]*\)", re.IGNORECASE)
_UNIQUE = re.compile(r"\bUNIQUE\b|\bCREATE\s+(UNIQUE\s+)?INDEX\b|\bSEQUENCE\b", re.IGNORECASE)


@dataclass(frozen=True)
class LakeLocation:
    """A DuckLake: its catalog connection string and (for a new lake) its data path.

    Attributes:
        catalog: what follows `ducklake:`, e.g. `postgres:dbname=ops host=db1 user=ops`.
        data_path: where the Parquet files go (`/shared/lake/`, `s3://bucket/lake/`); needed only to create
            the lake, which records it; `None` uses the recorded one.
    """

    catalog: str
    data_path: str | None = None

    @property
    def url(self) -> str:
        return LAKE_PREFIX + self.catalog

    @property
    def display(self) -> str:
        """The URL with any password replaced by ***: safe for logs, errors and the UI."""
        return redact_passwords(self.url)

    def attach_sql(self, *, read_only: bool) -> str:
        """The ATTACH statement for this lake as `lake` (pure)."""
        options = []
        if self.data_path and not read_only:
            options.append(f"DATA_PATH {quote_literal(self.data_path)}")
        if read_only:
            options.append("READ_ONLY")
        tail = f" ({', '.join(options)})" if options else ""
        url = LAKE_PREFIX + "postgres:" + with_connect_timeout(self.catalog[len("postgres:") :])
        return f"ATTACH {quote_literal(url)} AS {CATALOG}{tail}"


def with_connect_timeout(conninfo: str, seconds: int = CONNECT_TIMEOUT_SECONDS) -> str:
    """A libpq connection string (`key=value ...` or a `postgresql://` URI) with `connect_timeout` set,
    unless it sets one itself (pure). libpq's default is to wait as long as the network does."""
    if "connect_timeout" in conninfo:
        return conninfo
    text = conninfo.strip()
    if text.startswith(("postgres://", "postgresql://")):
        return f"{text}{'&' if '?' in text else '?'}connect_timeout={seconds}"
    return f"{text} connect_timeout={seconds}"


def is_lake_url(location: str | Path) -> bool:
    """True for a `ducklake:...` warehouse setting, False for a DuckDB file path."""
    return isinstance(location, str) and location.startswith(LAKE_PREFIX)


def parse_lake(location: str, data_path: str | None = None) -> LakeLocation:
    """A `ducklake:postgres:...` setting as a LakeLocation.

    Raises:
        OpsError: the catalog is empty or not a Postgres one (the only catalog this project tests).
    """
    catalog = location[len(LAKE_PREFIX) :].strip()
    if not catalog.startswith("postgres:") or not catalog[len("postgres:") :].strip():
        raise OpsError(
            f"Unsupported warehouse {redact_passwords(location)!r}: expected ducklake:postgres:<connection string>.",
            hint="e.g. OPS_WAREHOUSE='ducklake:postgres:dbname=ops host=127.0.0.1 user=postgres'",
        )
    return LakeLocation(catalog=catalog, data_path=(data_path or None))


def extension_file(name: str) -> Path:
    """The `.duckdb_extension` file of `name` inside its installed wheel, for this duckdb version.

    Raises:
        OpsError: the wheel is not installed, or ships no file for this duckdb version.
    """
    package = EXTENSION_WHEELS[name]
    wheel = package.replace("_", "-")
    try:
        root = resources.files(package)
    except ModuleNotFoundError:
        raise OpsError(
            f"The DuckDB extension {name!r} is not installed.",
            hint=f"install the pinned wheel: pip install -c constraints.txt {wheel}",
        ) from None
    path = Path(str(root / "extensions" / f"v{duckdb.__version__}" / f"{name}.duckdb_extension"))
    if not path.is_file():
        raise OpsError(
            f"{wheel} has no {name} extension for duckdb {duckdb.__version__}.",
            hint="install the versions pinned together in constraints.txt",
        )
    return path


def load_extensions(con: duckdb.DuckDBPyConnection) -> None:
    """LOAD ducklake and postgres_scanner from their wheels (no download)."""
    for name in EXTENSION_WHEELS:
        con.execute(f"LOAD {quote_literal(str(extension_file(name)))}")


def lake_ddl(sql: str) -> str:
    """A migration's SQL in the form DuckLake accepts: PRIMARY KEY clauses dropped (pure).

    Comments go first. An inline `col TYPE PRIMARY KEY` becomes `col TYPE NOT NULL` (what the key implied);
    a table-level `, PRIMARY KEY (a, b)` goes (those columns are declared NOT NULL in every migration). On DuckLake the
    natural keys are kept by the writers instead (`warehouse/merge.py`: MERGE under a claim).

    Raises:
        OpsError: the SQL uses UNIQUE, an index or a sequence, which DuckLake has no form of.
    """
    code = _strip_comments(sql)
    if _UNIQUE.search(code):
        raise OpsError("A migration uses UNIQUE, an index or a sequence, which DuckLake does not support.")
    return _TABLE_PK.sub("", _INLINE_PK.sub(" NOT NULL", code))


def is_conflict(exc: BaseException) -> bool:
    """True for DuckLake's optimistic-concurrency failure (run the transaction again)."""
    return isinstance(exc, duckdb.TransactionException) and "conflict" in str(exc).lower()


def _strip_comments(sql: str) -> str:
    return "\n".join(line.partition("--")[0] for line in sql.splitlines())
