"""Record: the bookkeeper's side of the warehouse during a pass (reads of slices, one write per cycle).

Only the bookkeeper thread uses a Recorder. It keeps its write connection across cycles: closing a DuckDB
file checkpoints it, and a checkpoint compresses again the partly filled row groups of every table written
since the last one. It closes when another connection queues for the warehouse (an analyst's read-only
session, another run: `Warehouse.others_waiting`), once CHECKPOINT_ROWS rows went through the WAL (closing frees
what DuckDB holds for the connection), or after HOLD_SECONDS at the most.

Outcomes (ledger entries and per-row results) are written in whole DuckDB row groups (ROW_GROUP_ROWS). A
transaction that appends whole row groups to a table makes DuckDB write them to the file at once, compressed
("optimistic writes"), instead of copying every value into the WAL and compressing it at the next
checkpoint. A million ledger entries cost 1.7 s of CPU that way, against 2.3-2.5 s in the cycles' own sizes
(about 100,000 rows at 100 requests/s); a 1,000,000-lead push spent 4-6 s of CPU in checkpoints, 0.9 s now
(bench/README.md). So a cycle writes the intents of its new jobs at once (they must be durable before their
requests leave) and the outcomes once a row group of them is ready; the rest at the end of the pass, once
the oldest has waited WAIT_SECONDS (a push at a low budget), or at once when rows are forgotten. A run
killed in between leaves those rows `pending`, like the requests it had in flight: the next run looks them
up (tasks/push_reconcile.py) instead of reading their outcome from the ledger.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager

import duckdb
import polars as pl

from tasks.push_models import Job, JobResult
from warehouse import ledger
from warehouse.db import NO_DICTIONARY_COMPRESSION, Warehouse, in_transaction
from warehouse.ledger import LedgerScope
from warehouse.ledger_snapshot import LedgerSnapshot, snapshot_folder

HOLD_SECONDS = 15.0  # the bookkeeper closes (and so checkpoints) the warehouse at least this often
YIELD_AFTER_SECONDS = 2.0  # ... and, once held this long, whenever another connection is queued for it
# (two pushes writing one file take turns of about this length: each turn ends in a checkpoint)
CHECKPOINT_ROWS = 600_000  # ... and after this many rows went through the WAL: intents, forgotten rows, the
# last partial row group of outcomes. DuckDB keeps them in memory until the checkpoint that closing makes. A
# whole row group goes to the file at its commit, so it does not count: counting the outcomes too closed the
# connection of a 1,000,000-lead push 5 times instead of twice, for 2-4 s more CPU (bench/README.md).
ROW_GROUP_ROWS = 122_880  # DuckDB's rows per row group (its default ROW_GROUP_SIZE): outcomes go in these
WAIT_SECONDS = 30.0  # ... or all of them once the oldest has waited this long (a push at a low budget)
# The push's DuckDB settings. One thread: its statements are many and small, and on a busy 2-core machine
# DuckDB's worker threads cost more CPU than they save (a 1M-lead push: 32 s of CPU instead of 44 s).
# A memory limit: DuckDB keeps what it reads in a buffer pool of up to 80% of RAM by default, and sorts
# every ledger entry when reconciling and compacting; with a limit it spills instead (peak RSS of that
# push: 944 MB instead of 1,351 MB). 256 MB since the connection stays open across cycles: a no-change
# re-run of 1,000,000 leads (every slice reads the ledger) peaked at 1,050 MB instead of 1,314 MB.
# No automatic checkpoint at 16 MB of WAL (DuckDB's default, about 30,000 leads): the connection is
# closed, and so checkpointed, on the Recorder's terms instead. No dictionary compression: the ledger's
# strings are mostly unique (warehouse.db.NO_DICTIONARY_COMPRESSION). All four hold for the connection's
# database until it is closed.
PUSH_SETTINGS = (
    "SET threads = 1",
    "SET memory_limit = '256MB'",
    "SET checkpoint_threshold = '1GB'",
    NO_DICTIONARY_COMPRESSION,
)


def tune(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """Apply PUSH_SETTINGS to a connection; returns it."""
    for statement in PUSH_SETTINGS:
        con.execute(statement)
    return con


@contextmanager
def push_connection(warehouse: Warehouse) -> Iterator[duckdb.DuckDBPyConnection]:
    """A write connection with the push's DuckDB settings (PUSH_SETTINGS)."""
    with warehouse.connect() as con:
        yield tune(con)


class Recorder:
    """Reads slices of the source with their ledger state, and records each cycle in one transaction.

    Its one connection is used by one thread at a time: the planner reads, the bookkeeper writes.

    Args:
        warehouse: the warehouse file.
        scope: whose ledger rows.
        on_results: called with each recorded results frame (after its transaction committed).
    """

    def __init__(
        self, warehouse: Warehouse, scope: LedgerScope, on_results: Callable[[pl.DataFrame], None]
    ) -> None:
        self.warehouse = warehouse
        self.scope = scope
        self.on_results = on_results
        self._held: tuple[ExitStack, duckdb.DuckDBPyConnection] | None = None
        self._held_since = 0.0
        self._snapshot: LedgerSnapshot | None = None  # the ledger as of the pass's first slice
        self._wal_rows = 0  # rows written through the WAL on the held connection
        self._entries = _Buffer(ledger.ENTRY_COLUMNS)  # outcomes waiting for a whole row group
        self._results = _Buffer(ledger.RESULT_COLUMNS)
        self._waiting_since = 0.0  # when the oldest outcome still waiting was given
        self._lock = threading.RLock()  # around every use of the connection
        self.first_push = False  # the scope's ledger was empty when the pass took its snapshot
        # Set once every request of the pass has left: the close at its end checkpoints what the WAL holds,
        # so CHECKPOINT_ROWS closes nothing before (a close after the last answer delayed the push's end).
        self.ending = False
        self.forgot = False  # rows were forgotten (their `forgotten` entries supersede earlier ones)

    def connection(self) -> duckdb.DuckDBPyConnection:
        """The write connection, closed first (and so checkpointed) when it is time to (see the module)."""
        if self._held is not None and self._time_to_close():
            self.release()
            self._let_waiters_in()
        if self._held is None:
            stack = ExitStack()
            self._held = (stack, stack.enter_context(push_connection(self.warehouse)))
            self._held_since = time.monotonic()
        return self._held[1]

    def _time_to_close(self) -> bool:
        held = time.monotonic() - self._held_since
        return (
            held > HOLD_SECONDS
            or (self._wal_rows >= CHECKPOINT_ROWS and not self.ending)
            or (held > YIELD_AFTER_SECONDS and self.warehouse.others_waiting())
        )

    def _let_waiters_in(self) -> None:
        # Reopening at once could take the lock back before a woken waiter does: wait until the queue is
        # served (a waiter stops counting once it holds the lock), for a second at most.
        deadline = time.monotonic() + 1.0
        while self.warehouse.others_waiting() and time.monotonic() < deadline:
            time.sleep(0.005)

    def release(self) -> None:
        """Close the connection (the end of a pass, or between cycles)."""
        with self._lock:
            if self._held is not None:
                stack, self._held = self._held[0], None
                self._wal_rows = 0
                stack.close()

    @property
    def settles(self) -> bool:
        """Whether each write of outcomes also deletes the intents they supersede (ledger.write, `settle`):
        on a DuckDB file, not on a DuckLake."""
        return self.warehouse.lake is None

    @property
    def known(self) -> int:
        """Rows whose result this Recorder was given so far (written, or waiting for a row group)."""
        return self._results.added

    @property
    def waiting(self) -> int:
        """Outcome rows (entries and results) not written yet: they wait for a whole row group."""
        return self._entries.rows + self._results.rows

    def close(self) -> None:
        """The end of the pass: write the outcomes still waiting, close the connection, remove the snapshot.

        The normal end of a pass has written them already (`write(..., flush=True)`, where an error is
        reported to the sender); here they are left only after an error, and rows the warehouse does not
        take stay `pending`: the next run looks them up.
        """
        with self._lock:
            try:
                if self.waiting:
                    self.write([], [], [], flush=True)
            finally:
                self._close()

    def _close(self) -> None:
        try:
            self.release()
        finally:
            if self._snapshot is not None:
                self._snapshot.close()
                self._snapshot = None

    def read_slice(self, columns: Sequence[str], start: int, stop: int) -> pl.DataFrame:
        """Rows [start, stop) with their ledger state as of the pass's start (ledger.read_slice with `upto`).

        The first read takes the pass's snapshot of the ledger (warehouse/ledger_snapshot.py).
        """
        with self._lock:
            con = self.connection()
            if self._snapshot is None:
                self._snapshot = LedgerSnapshot.take(con, self.scope, snapshot_folder(self.warehouse))
                self.first_push = self._snapshot.upto == 0
            return self._snapshot.read_slice(con, columns, start, stop)

    def read_keys(self, columns: Sequence[str], row_keys: Sequence[str]) -> pl.DataFrame:
        with self._lock:
            return ledger.read_keys(self.connection(), self.scope, columns, row_keys)

    def write(
        self,
        finished: list[tuple[Job, JobResult]],
        local: list[pl.DataFrame],
        new: list[Job],
        *,
        flush: bool = False,
    ) -> None:
        """One transaction: intents of new jobs, and outcomes (ledger entries, per-row results) in row groups.

        The intents of `new` are durable when this returns: only then may their requests leave. The outcomes
        of `finished` jobs and the results of rows without a request (`local`) are written once a whole row
        group of them is ready (see the module), all of them with `flush` or when rows are forgotten.
        """
        entries = [frame for _, result in finished for frame in result.ledger]
        result_frames = [frame for frame in local if not frame.is_empty()]
        result_frames += [frame for _, result in finished for frame in result.results]
        created = [(job, result.created) for job, result in finished if result.created is not None]
        if created:
            done, results = ledger.created_frames(
                [job.rows for job, _ in created],
                [ids for _, ids in created],
                [job.batch_id for job, _ in created],
            )
            entries.append(done)
            result_frames.append(results)
        forget = [key for _, result in finished for key in result.forget]
        if not self.waiting:
            self._waiting_since = time.monotonic()
        self._entries.add(entries)
        self._results.add(result_frames)
        flush = (
            flush
            or bool(forget)  # a forgotten row's entry comes after every entry written before it
            or time.monotonic() - self._waiting_since >= WAIT_SECONDS
        )
        entry_groups = self._entries.take(ROW_GROUP_ROWS, everything=flush)
        result_groups = self._results.take(ROW_GROUP_ROWS, everything=flush)
        intents = _intents(new) if new else None
        if not entry_groups and not result_groups and intents is None and not forget:
            return
        settle = self.settles
        with self._lock:
            con = self.connection()
            for attempt in self.warehouse.retrying():  # a DuckLake conflict with another writer: again
                with attempt, in_transaction(con):
                    # A row group per statement: what a flush holds in memory at once stays one group's copies.
                    for group in entry_groups:
                        ledger.write(con, self.scope, group, settle=settle)
                    for group in result_groups:
                        ledger.append_results(con, self.scope, group)
                    if intents is not None or forget:
                        ledger.write(con, self.scope, intents, forget=forget, settle=settle)
        self._wal_rows += sum(g.height for g in (*entry_groups, *result_groups) if g.height < ROW_GROUP_ROWS)
        self._wal_rows += (intents.height if intents is not None else 0) + len(forget)
        self.forgot = self.forgot or bool(forget)
        for group in result_groups:
            self.on_results(group)

    def forget(self, row_keys: Sequence[str]) -> None:
        """Forget rows whose intents were written but whose requests never left (a pass that stopped)."""
        if row_keys:
            self.forgot = True
            for attempt in self.warehouse.transactions():
                with attempt as con:
                    tune(con)
                    ledger.write(con, self.scope, forget=row_keys)


class _Buffer:
    """Frames of `columns` waiting to be written, taken out a row group at a time."""

    def __init__(self, columns: tuple[str, ...]) -> None:
        self.columns = columns
        self.frames: list[pl.DataFrame] = []
        self.rows = 0  # waiting
        self.added = 0  # ever added

    def add(self, frames: list[pl.DataFrame]) -> None:
        for frame in frames:
            if not frame.is_empty():
                self.frames.append(frame)
                self.rows += frame.height
                self.added += frame.height

    def take(self, group: int, *, everything: bool) -> list[pl.DataFrame]:
        """Every whole `group` of rows waiting, each in one chunk, in order; with `everything` the rest too."""
        groups = []
        while self.rows >= group or (everything and self.rows):
            size, pieces = min(group, self.rows), []
            while size:
                first = self.frames[0]
                if first.height <= size:
                    pieces.append(self.frames.pop(0))
                else:
                    pieces.append(first.slice(0, size))
                    self.frames[0] = first.slice(size)
                size -= pieces[-1].height
                self.rows -= pieces[-1].height
            stacked = _stack(pieces, self.columns)
            assert stacked is not None
            groups.append(stacked)
        return groups


def _stack(frames: list[pl.DataFrame], columns: tuple[str, ...]) -> pl.DataFrame | None:
    """One frame of `columns` from many, in one chunk: what the cycle's statements scan after (a frame of
    many small chunks cost each of them again per chunk: 1.7 s of CPU a million leads instead of 0.6 s)."""
    if not frames:
        return None
    if any(frame.columns != list(columns) for frame in frames):
        frames = [frame.select(columns) for frame in frames]
    return pl.concat(frames, how="vertical_relaxed", rechunk=True)


def _intents(new: list[Job]) -> pl.DataFrame:
    """The `pending` entries (ledger.ENTRY_COLUMNS) of the rows of new jobs, each with its job's batch id:
    one frame for all jobs (ledger.intents, once a job, cost 0.3 s a million leads)."""
    rows = pl.concat([job.rows for job in new], how="vertical_relaxed", rechunk=True)
    batches = pl.DataFrame(
        {"batch_id": [job.batch_id for job in new], "n": [job.rows.height for job in new]},
        schema={"batch_id": pl.Utf8, "n": pl.UInt32},
    ).select(pl.col("batch_id").repeat_by("n").explode())
    return rows.select(
        "row_key",
        "email",
        pl.col("lead_id").cast(pl.Utf8),
        pl.col("payload_hash").cast(pl.Utf8),
        state=pl.lit("pending", dtype=pl.Utf8),
        outcome=pl.lit(None, dtype=pl.Utf8),
        batch_id=batches["batch_id"],
    )
