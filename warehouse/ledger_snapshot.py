"""A pass's view of the ledger: every source row's current entry as of the pass's start, read once.

A pass reads the source table in slices of rowids, each with its rows' current ledger entries
(ledger.read_slice). Entries are not ordered by rowid, so each slice's read scanned the scope's whole
ledger: a no-change re-run of 1,000,000 leads spent 11 s of CPU in 23 such scans, and the cost grows with
the square of the table. When the scope's ledger is large (SNAPSHOT_MIN_ENTRIES), the pass instead writes
every source row's current entry once, in rowid order, to a scratch Parquet file (about 1.3 s of CPU and
140 MB of disk a million rows), and each slice reads its rowid range from there (the row groups outside it
are skipped by their statistics).

The snapshot holds what a slice read with `upto` (ledger.read_slice) would: the entries written up to the
pass's start; this run's later entries are left out. Before each slice it checks that nothing else changed
since (another run's ledger write, whether its write id is above `upto` or a DuckLake commit that landed
late below it; a new extract of the table): then that slice, and every later one, is read whole from the
warehouse, as read_slice does when another run wrote.

Files live in `<Warehouse.state_dir>/push/ledger-*/` (beside the warehouse file; for a DuckLake, in this
machine's cache), one folder per pass, flock(2)-ed while in use. `close` removes it, then `push/` and the
state folder above it if they are left empty (rmdir(2): never a folder another pass or a sync still has
something in; a pass that finds its `push/` gone between creating it and its own folder creates it again).
A pass killed before `close` leaves its folder behind, and the next pass to take a snapshot removes every
folder nobody holds.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import duckdb
import polars as pl

from ops_core.sql import quote_ident, quote_literal
from warehouse import ledger
from warehouse.db import Warehouse, in_transaction
from warehouse.ledger import LedgerScope

# A scope with fewer entries is read per slice, as before: below about two full slices of rows, scanning
# the ledger for each slice costs less than writing the snapshot.
SNAPSHOT_MIN_ENTRIES = 100_000
ROW_GROUP_ROWS = 8_192  # a first slice is 4,000 rows, a full one 50,000: few row groups read outside it
STALE_SECONDS = 3_600.0  # a folder left without its lock file (a pass killed while creating it)
_CREATE_TRIES = 5  # mkdir + mkdtemp again, when another pass removed the empty folder in between

Kind = Literal["empty", "file", "live"]


def snapshot_folder(warehouse: Warehouse) -> Path:
    """Where a warehouse's passes keep their snapshots (a folder of this machine)."""
    return warehouse.state_dir / "push"


class LedgerSnapshot:
    """The current ledger entries of a scope's source rows as of one moment (see the module).

    Take one with `take`, read slices with `read_slice`, `close` it at the end of the pass.

    Attributes:
        upto: the scope's newest write id when it was taken (0: none).
        kind: `empty` (no row had an entry: slices need no ledger read), `file` (a Parquet snapshot) or
            `live` (a small ledger: each slice reads it, ledger.read_slice with `upto`).
    """

    def __init__(
        self,
        scope: LedgerScope,
        upto: int,
        mark: tuple[object, ...],
        kind: Kind,
        folder: Path | None = None,
        lock: int | None = None,
    ) -> None:
        self.scope = scope
        self.upto = upto
        self.kind: Kind = kind
        self._mark = mark
        self._folder = folder
        self._lock = lock
        self._changed = False

    @property
    def path(self) -> Path | None:
        """The Parquet file (kind `file` only)."""
        return self._folder / "ledger.parquet" if self._folder is not None else None

    @classmethod
    def take(cls, con: duckdb.DuckDBPyConnection, scope: LedgerScope, folder: Path) -> LedgerSnapshot:
        """The scope's entries now (one transaction); a file in `folder` when the ledger is large.

        Raises:
            duckdb.Error: the warehouse could not be read. A file that cannot be written (a full disk)
                gives a `live` snapshot instead.
        """
        own: tuple[Path, int] | None = None
        writing = False
        try:
            with in_transaction(con):  # upto, the mark and the file: one consistent view (a DuckLake too)
                upto = ledger.newest_write(con, scope)
                mark = _mark(con, scope)
                entries = _count_entries(con, scope, upto)
                if entries < SNAPSHOT_MIN_ENTRIES:
                    return cls(scope, upto, mark, "empty" if entries == 0 else "live")
                writing = True
                own = _own_folder(folder)
                _write(con, scope, upto, own[0] / "ledger.parquet")
        except (duckdb.IOException, OSError):
            if not writing:
                raise
            if own is not None:
                _remove(*own)
            return cls(scope, ledger.newest_write(con, scope), (), "live")
        except BaseException:
            if own is not None:
                _remove(*own)
            raise
        assert own is not None
        return cls(scope, upto, mark, "file", *own)

    def read_slice(
        self, con: duckdb.DuckDBPyConnection, columns: Sequence[str], start: int, stop: int
    ) -> pl.DataFrame:
        """Rows [start, stop) with their current entry, as ledger.read_slice(..., upto=self.upto) gives them."""
        if self.kind == "live":
            return ledger.read_slice(con, self.scope, columns, start, stop, upto=self.upto)
        if not self._changed and _mark(con, self.scope) != self._mark:
            self._changed = True  # for good: the rest of the pass reads the warehouse
        if self._changed:
            return ledger.read_slice(con, self.scope, columns, start, stop)
        rows = ledger.source_rows(con, self.scope, columns, "t.rowid >= ? AND t.rowid < ?", [start, stop])
        data = [f"c{i}" for i in range(len(columns))]
        if self.path is None:
            nulls = [pl.lit(None, dtype=pl.Utf8).alias(c) for c in ledger.SLICE_LEDGER_COLUMNS]
            return rows.select("rowid", "row_key", "source_row", "row_problem", *nulls, *data)
        newest = (
            pl.scan_parquet(self.path)
            .filter(pl.col("rowid").is_between(start, stop, closed="left"))
            .collect()
            .unique("rowid", keep="first", maintain_order=True)
        )
        joined = rows.join(newest, on="rowid", how="left", maintain_order="left")
        return joined.select(
            "rowid", "row_key", "source_row", "row_problem", *ledger.SLICE_LEDGER_COLUMNS, *data
        )

    def close(self) -> None:
        """Remove the file (if any). Idempotent."""
        if self._folder is not None and self._lock is not None:
            _remove(self._folder, self._lock)
        self._folder = self._lock = None


def _mark(con: duckdb.DuckDBPyConnection, scope: LedgerScope) -> tuple[object, ...]:
    """What changes when another run writes the scope's ledger, or the table is extracted again."""
    row = con.execute(
        "SELECT count(*), sum(CAST(write_id AS HUGEINT)), "
        "(SELECT max(extracted_at) FROM ops.source_tables WHERE table_name = ?), "
        "(SELECT max(run_id) FROM ops.source_tables WHERE table_name = ?) "
        f"FROM {ledger._WRITES} WHERE workspace = ? AND campaign_id = ? AND source_table = ? "
        "AND run_id IS DISTINCT FROM ?",
        [scope.source_table, scope.source_table, *scope.params, scope.run_id],
    ).fetchone()
    return tuple(row) if row else ()


def _count_entries(con: duckdb.DuckDBPyConnection, scope: LedgerScope, upto: int) -> int:
    row = con.execute(
        f"SELECT count(*) FROM {ledger._ALL_ENTRIES} e "
        f"WHERE e.write_id <= {int(upto)} AND e.write_id IN ({ledger._SCOPE_WRITES})",
        scope.params,
    ).fetchone()
    return int(row[0]) if row else 0


def _write(con: duckdb.DuckDBPyConnection, scope: LedgerScope, upto: int, path: Path) -> None:
    """Every source row's newest entry up to `upto` (forgotten ones left out), in rowid order.

    The newest write id of each row key first, then that entry's columns: a window over the entries' whole
    rows held every string of them at once (over 256 MB at a million rows, the push's memory limit).
    Uncompressed: hashes and lead ids do not compress, and compressing cost 10% more CPU.
    """
    table = f"ops.{quote_ident(scope.source_table)}"
    scoped = f"e.write_id <= {int(upto)} AND e.write_id IN ({ledger._SCOPE_WRITES})"
    con.execute(
        f"""COPY (
            WITH newest AS (
                SELECT e.row_key, max(e.write_id) AS write_id FROM {ledger._ALL_ENTRIES} e
                WHERE {scoped} GROUP BY e.row_key
            ), placed AS (
                SELECT t.rowid AS rowid, n.row_key, n.write_id FROM {table} AS t
                JOIN newest n ON n.row_key = t._row_key
            )
            SELECT p.rowid, e.state AS l_state, e.payload_hash AS l_hash, e.lead_id AS l_lead_id,
                e.outcome AS l_outcome, e.email AS l_email
            FROM {ledger._ALL_ENTRIES} e JOIN placed p ON e.row_key = p.row_key AND e.write_id = p.write_id
            WHERE {scoped} AND e.state <> {quote_literal(ledger.FORGOTTEN)}
            ORDER BY p.rowid
        ) TO {quote_literal(str(path))} (FORMAT parquet, ROW_GROUP_SIZE {ROW_GROUP_ROWS}, COMPRESSION uncompressed)""",
        [*scope.params, *scope.params],
    )


# -- scratch folders -----------------------------------------------------------------------------------


def _own_folder(folder: Path) -> tuple[Path, int]:
    """A new folder for one snapshot, locked (flock) for as long as the returned descriptor is open."""
    for attempt in range(_CREATE_TRIES):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            sweep(folder)
            own = Path(tempfile.mkdtemp(prefix="ledger-", dir=folder))
            break
        except FileNotFoundError:
            # Another pass's `close` removed the folder (or the state folder above it) while it was empty,
            # between our mkdir and mkdtemp: create it again.
            if attempt == _CREATE_TRIES - 1:
                raise
    # Locked before it is named `lock`: a sweep only looks at `lock`, so it never sees it unlocked.
    fd = os.open(own / "lock.new", os.O_CREAT | os.O_RDWR, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    os.replace(own / "lock.new", own / "lock")
    return own, fd


def _remove(own: Path, lock: int) -> None:
    shutil.rmtree(own, ignore_errors=True)
    os.close(lock)
    remove_empty(own.parent, own.parent.parent)


def remove_empty(*folders: Path) -> None:
    """Remove each folder in turn while it is empty (`push/`, then the state folder above it); stop at the
    first that is not (another pass's snapshot, a sync's staged pages) or is gone. rmdir(2) removes only an
    empty folder, atomically, so this never takes a folder from under a run that has put something in it;
    `_own_folder` and the sync's staging create theirs again if it vanished before they could."""
    for folder in folders:
        try:
            os.rmdir(folder)
        except OSError:
            return


def sweep(folder: Path) -> list[Path]:
    """Remove the snapshot folders nobody holds (passes that were killed); returns them."""
    removed = []
    for own in folder.glob("ledger-*"):
        try:
            fd = os.open(own / "lock", os.O_RDWR)
        except FileNotFoundError:
            with contextlib.suppress(OSError):
                if time.time() - own.stat().st_mtime > STALE_SECONDS:
                    shutil.rmtree(own, ignore_errors=True)
                    removed.append(own)
            continue
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            continue  # a pass is using it
        else:
            shutil.rmtree(own, ignore_errors=True)
            removed.append(own)
        finally:
            os.close(fd)
    return removed
