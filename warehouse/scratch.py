"""A scratch warehouse: in memory, migrated like a real one, gone when closed. What a dry run writes to.

`push --dry-run` reads the source, maps and validates every row exactly as a push does, and those steps
write `ops.<table>` and read it back. Run against this warehouse they leave no file, no lock file and no
migration behind; the real warehouse is only ever read (read-only) by the dry run. DuckDB spills what does
not fit in memory to a temporary folder of its own, removed on close.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from ops_core.sql import quote_literal
from warehouse.db import Warehouse, migrate, quiet

__all__ = ["ScratchWarehouse"]


class ScratchWarehouse(Warehouse):
    """An in-memory warehouse, for `with ScratchWarehouse() as scratch:` (every `connect()` is a cursor of
    one in-memory database, migrated once; read-only connections are plain cursors too)."""

    def __init__(self) -> None:
        super().__init__(":memory:")
        self.path = None  # no file: nothing waits for it, nothing is locked, nothing is left behind
        self._spill = tempfile.TemporaryDirectory(prefix="ops-dry-run-")
        self._con = duckdb.connect(":memory:")
        self._con.execute(f"SET temp_directory = {quote_literal(self._spill.name)}")
        migrate(self._con)

    @property
    def display(self) -> str:
        return "a dry run's in-memory warehouse"

    @property
    def location(self) -> str:
        return ":memory:"

    @property
    def state_dir(self) -> Path:
        return Path(self._spill.name) / "sync"

    def exists(self) -> bool:
        return True

    @contextmanager
    def connect(self, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        con = quiet(self._con.cursor())
        try:
            yield con
        finally:
            con.close()

    def close(self) -> None:
        """Drop the database and its spill folder."""
        self._con.close()
        self._spill.cleanup()

    def __enter__(self) -> ScratchWarehouse:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
