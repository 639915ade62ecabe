"""The warehouse file: connections, migrations and the run history.

DuckDB lets one process hold the write lock on a file. `Warehouse.connect()` is the one place a connection is
opened: write connections queue for the warehouse lock (`warehouse/lock.py`: one writer at a time across
processes and threads, readers share), so concurrent runs take turns instead of failing. Flows open a write
connection only to read or load (seconds), never while calling the API (see docs/warehouse.md).
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

from ops_core.errors import OpsError
from warehouse.lock import warehouse_lock

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


# How long a connection waits for its turn. Write sections last seconds, so a long queue still clears well
# within this; what it guards against is a session that never lets go (a DuckDB CLI or notebook).
DEFAULT_LOCK_TIMEOUT = 300.0


class WarehouseLockedError(OpsError):
    """A process outside ops-instantly (a DuckDB CLI, a notebook) holds the warehouse file's lock."""


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
        lock_timeout: seconds a connection waits for its turn (other runs writing, or a DuckDB session
            holding the file) before giving up.
    """

    def __init__(self, path: str | Path, *, lock_timeout: float = DEFAULT_LOCK_TIMEOUT) -> None:
        self.path = Path(path)
        self.lock_timeout = lock_timeout

    def __repr__(self) -> str:
        return f"Warehouse({str(self.path)!r})"

    @contextmanager
    def connect(self, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection, opened in turn: the write section of a run, or a consistent read.

        A write connection (the default) waits until no other connection to this file is open in any
        process that uses `Warehouse`, then applies pending migrations. A read-only one waits only for
        writers. Keep the block short and never call the API inside it: other runs queue meanwhile.

        Raises:
            WarehouseBusyError: other runs kept the warehouse for longer than `lock_timeout` seconds.
            WarehouseLockedError: a process outside ops-instantly held the file for that long.
            OpsError: no warehouse file yet (read-only), or DuckDB could not open it.
        """
        if read_only and not self.path.exists():
            raise OpsError(
                f"No warehouse at {self.path}", hint="run a push or sync first, or set OPS_WAREHOUSE"
            )
        if not read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + self.lock_timeout
        with warehouse_lock(self.path, exclusive=not read_only, timeout=self.lock_timeout):
            con = self._open(read_only, deadline)
            try:
                if not read_only:
                    migrate(con)
                yield con
            finally:
                con.close()

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A write connection inside one transaction: committed at the end, rolled back on any error."""
        with self.connect() as con:
            con.execute("BEGIN TRANSACTION")
            try:
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")

    def _open(self, read_only: bool, deadline: float) -> duckdb.DuckDBPyConnection:
        # Our own runs queue on the warehouse lock; this retry is for sessions outside it (a DuckDB CLI, a
        # notebook using duckdb.connect directly), which DuckDB reports as a lock error at once.
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
                        "read it with Warehouse(path).connect(read_only=True); see docs/warehouse.md",
                    ) from None
                time.sleep(delay)
                delay = min(delay * 2, 0.5)

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
