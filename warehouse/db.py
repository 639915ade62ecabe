"""The warehouse file: connections, migrations and the run history.

DuckDB lets one process hold the write lock on a file. Flows open a write connection only to load (seconds),
never while calling the API, so analysts can query between loads (see docs/warehouse.md).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from ops_instantly.errors import OpsError

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


class WarehouseLockedError(OpsError):
    """Another process holds the warehouse file's write lock."""


def migrations() -> list[tuple[int, str, str]]:
    """(version, name, sql) for every migration file, in order."""
    found = []
    for path in sorted(MIGRATIONS_DIR.glob("*.sql")):
        match = _MIGRATION_NAME.match(path.name)
        if not match:
            raise OpsError(f"Badly named migration {path.name}: expected NNNN_name.sql")
        found.append((int(match.group(1)), path.stem, path.read_text()))
    versions = [v for v, _, _ in found]
    if len(set(versions)) != len(versions):
        raise OpsError(f"Two migrations share a version number in {MIGRATIONS_DIR}")
    return found


def migrate(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Apply every migration not yet applied, each in its own transaction. Returns the names applied."""
    con.execute(
        "CREATE TABLE IF NOT EXISTS main._migrations"
        " (version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMPTZ NOT NULL)"
    )
    done = {row[0] for row in con.execute("SELECT version FROM main._migrations").fetchall()}
    applied = []
    for version, name, sql in migrations():
        if version in done:
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(sql)
            con.execute("INSERT INTO main._migrations VALUES (?, ?, ?)", [version, name, _now()])
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
        applied.append(name)
    return applied


class Warehouse:
    """A DuckDB warehouse file.

    Args:
        path: the .duckdb file; created (with its folder) on first write.
        lock_timeout: seconds to wait for another process's write lock before giving up.
    """

    def __init__(self, path: str | Path, *, lock_timeout: float = 30.0) -> None:
        self.path = Path(path)
        self.lock_timeout = lock_timeout

    def __repr__(self) -> str:
        return f"Warehouse({str(self.path)!r})"

    @contextmanager
    def connect(self, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection; a write connection applies pending migrations first."""
        if read_only and not self.path.exists():
            raise OpsError(
                f"No warehouse at {self.path}", hint="run a push or sync first, or set OPS_WAREHOUSE"
            )
        if not read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        con = self._open(read_only)
        try:
            if not read_only:
                migrate(con)
            yield con
        finally:
            con.close()

    def _open(self, read_only: bool) -> duckdb.DuckDBPyConnection:
        deadline = time.monotonic() + self.lock_timeout
        delay = 0.05
        while True:
            try:
                return duckdb.connect(str(self.path), read_only=read_only)
            except duckdb.IOException as exc:
                if "lock" not in str(exc).lower():
                    raise OpsError(
                        f"Cannot open the warehouse {self.path}: {str(exc).splitlines()[0]}"
                    ) from None
                if time.monotonic() >= deadline:
                    raise WarehouseLockedError(
                        f"The warehouse {self.path} is locked by another process.",
                        hint="close other DuckDB sessions writing to it (a DuckDB CLI, a notebook) or "
                        "read a copy; see docs/warehouse.md",
                    ) from None
                time.sleep(delay)
                delay = min(delay * 2, 1.0)

    # -- run history -----------------------------------------------------------------------------------

    def start_run(self, run_id: str, flow: str) -> None:
        """Record a run as started in ops.sync_runs."""
        with self.connect() as con:
            con.execute(
                "INSERT OR REPLACE INTO ops.sync_runs VALUES (?, ?, ?, NULL, 'running', NULL, NULL)",
                [run_id, flow, _now()],
            )

    def finish_run(
        self, run_id: str, status: str, counts: dict[str, Any], message: str | None = None
    ) -> None:
        """Record a run's outcome and counts in ops.sync_runs."""
        with self.connect() as con:
            con.execute(
                "UPDATE ops.sync_runs SET finished_at = ?, status = ?, counts = ?, message = ? WHERE run_id = ?",
                [_now(), status, json.dumps(counts, default=str), message, run_id],
            )


def _now() -> datetime:
    return datetime.now(UTC)
