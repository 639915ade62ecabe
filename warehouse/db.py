"""The warehouse: connections, migrations and the run history, on either backend.

Two backends, chosen by the warehouse setting (`OPS_WAREHOUSE`, the warehouse block):

- a DuckDB file (the default). DuckDB lets one process hold the write lock on a file, so write connections
  queue for the warehouse lock (`warehouse/lock.py`: one writer at a time across processes and threads,
  readers share) and concurrent runs take turns instead of failing;
- a DuckLake (`ducklake:postgres:...`, `warehouse/lake.py`): the catalog in Postgres, the data in Parquet
  files, many writers at once on many machines. No file lock: each write is a DuckLake transaction, and one
  that conflicts with another writer's is run again (`Warehouse.transactions()`).

`Warehouse.connect()` is the one place a connection is opened. Flows open a write connection only to read
or load (seconds), never while calling the API (see docs/warehouse.md).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_random_exponential

from ops_core.errors import OpsError
from ops_core.interface import option
from ops_core.urls import redact_passwords
from warehouse import run_history
from warehouse.lake import (
    CATALOG,
    OFFLINE_CONFIG,
    LakeLocation,
    is_conflict,
    is_lake_url,
    lake_ddl,
    load_extensions,
    parse_lake,
)
from warehouse.lock import others_waiting, warehouse_lock
from warehouse.merge import upsert_row

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
SCHEMAS = ("ops", "instantly")  # the schemas the migrations create
_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


# How long a connection waits for its turn. Write sections last seconds, so a long queue still clears well
# within this; what it guards against is a session that never lets go (a DuckDB CLI or notebook).
DEFAULT_LOCK_TIMEOUT = 300.0
# DuckLake: how often a conflicting transaction is run again before the conflict is raised.
CONFLICT_ATTEMPTS = 25
# For a connection that writes many rows of mostly unique text (the push ledger's row keys, emails, lead ids
# and hashes; a source table's copy: emails, names, notes): DuckDB tries dictionary compression on every
# string column of every row group it writes, and on such columns it costs more than it saves. Without it
# the checkpoints of a million-lead push's ledger cost 3.4 s of CPU instead of 4.6 s (a file 15% larger), and
# the copy of a million-row, eight-column CSV 2.3-3.3 s instead of 4.5-5.0 (30 MB become 43 MB; the
# repeated strings get FSST instead; bench/README.md). A DuckDB setting: it holds for the connection's
# database until it is closed (each `Warehouse.connect()` opens its own). DuckLake's Parquet files ignore it.
NO_DICTIONARY_COMPRESSION = "SET disabled_compression_methods = 'dictionary'"


class WarehouseLockedError(OpsError):
    """A process outside ops-instantly (a DuckDB CLI, a notebook) holds the warehouse file's lock."""


def quiet(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """`con` without DuckDB's progress bar, which DuckDB draws on standard output for a query that runs over
    2 s (an extract or a dry run of a million rows on a busy machine): into a `--json` document, the CLI's
    own lines and a worker's logs. A setting of each connection and cursor (not of the database), so every
    one this project opens goes through here. Returns `con`."""
    con.execute("SET enable_progress_bar = false")
    return con


# DuckDB's lock error names the holder: 'Conflicting lock is held in /usr/bin/python3.11 (PID 4242)'.
_LOCK_HOLDER = re.compile(r"Conflicting lock is held in (?P<program>.+?) \(PID (?P<pid>\d+)\)")


def lock_holder(message: str) -> str | None:
    """The process DuckDB's lock error names, as `python3.11 (PID 4242)`, or None when it names none (pure)."""
    match = _LOCK_HOLDER.search(message)
    if match is None:
        return None
    return f"{Path(match['program']).name} (PID {match['pid']})"


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


def migrate(con: duckdb.DuckDBPyConnection, *, lake: bool = False) -> list[str]:
    """Apply every migration not yet applied. Returns the names applied.

    On a file each migration runs in its own transaction. On a DuckLake (`lake=True`) each runs in its
    DuckLake form (`warehouse.lake.lake_ddl`), and all pending ones in one transaction (a DuckLake commit
    costs catalog round trips); two processes migrating at once conflict instead of both applying a
    migration, and the one run again finds nothing left to do.
    """
    ddl: Callable[[str], str] = lake_ddl if lake else (lambda sql: sql)
    applied: list[str] = []
    for attempt in _conflict_retrying(CONFLICT_ATTEMPTS if lake else 1):
        with attempt:
            con.execute(
                ddl(
                    "CREATE TABLE IF NOT EXISTS main._migrations"
                    " (version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMPTZ NOT NULL)"
                )
            )
            while True:
                with in_transaction(con):
                    # Read what is applied inside the transaction that applies the rest: read before it, a
                    # lake's other migrator could commit in between and this one would apply it all again.
                    done = {row[0] for row in con.execute("SELECT version FROM main._migrations").fetchall()}
                    pending = [m for m in migrations() if m[0] not in done]
                    batch = pending if lake else pending[:1]
                    if batch and lake:  # rewrite the latest row: two migrators of one version now conflict
                        con.execute(
                            "UPDATE main._migrations SET applied_at = applied_at"
                            " WHERE version = (SELECT max(version) FROM main._migrations)"
                        )
                    for version, name, sql in batch:
                        con.execute(ddl(sql))
                        con.execute("INSERT INTO main._migrations VALUES (?, ?, ?)", [version, name, _now()])
                applied += [name for _, name, _ in batch]
                if len(batch) == len(pending):
                    break
    return applied


class Warehouse:
    """The warehouse: a DuckDB file, or a DuckLake with its catalog in Postgres.

    Args:
        location: the .duckdb file (created on first write, in a folder that exists), or a DuckLake URL
            `ducklake:postgres:dbname=... host=... user=...` (created on first write).
        data_path: DuckLake only: where a new lake keeps its Parquet files (a folder every writer sees, or
            `s3://...`); an existing lake uses the path it recorded.
        lock_timeout: file only: seconds a connection waits for its turn (other runs writing, or a DuckDB
            session holding the file) before giving up.

    Attributes:
        path: the DuckDB file; `None` for a DuckLake.
        lake: the DuckLake; `None` for a file.
    """

    def __init__(
        self,
        location: str | Path,
        *,
        data_path: str | None = None,
        lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
    ) -> None:
        self.lake: LakeLocation | None = None
        self.path: Path | None = None
        if isinstance(location, str) and is_lake_url(location):
            self.lake = parse_lake(location, data_path)
        else:
            self.path = Path(location)
        self.lock_timeout = lock_timeout

    @property
    def display(self) -> str:
        """The file path or the lake's URL (password redacted): for messages."""
        return self.lake.display if self.lake else str(self.path)

    @property
    def location(self) -> str:
        """What `Warehouse(location)` was given (the lake URL unredacted: never log it)."""
        return self.lake.url if self.lake else str(self.path)

    def __repr__(self) -> str:
        return f"Warehouse({self.display!r})"

    @property
    def state_dir(self) -> Path:
        """A local folder for this machine's in-flight state (the sync's staged pages).

        Beside the file (`<file>.sync`); for a DuckLake, under ~/.cache/ops-instantly, one per lake.
        """
        if self.path is not None:
            return Path(f"{self.path}.sync")
        assert self.lake is not None
        digest = hashlib.sha256(self.lake.catalog.encode()).hexdigest()[:12]
        return Path.home() / ".cache" / "ops-instantly" / f"lake-{digest}.sync"

    def exists(self) -> bool:
        """Whether the warehouse has been created (a first write applies the migrations)."""
        if self.path is not None:
            return self.path.exists()
        try:
            with self.connect(read_only=True):
                return True
        except OpsError:
            return False

    @contextmanager
    def connect(self, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection, opened in turn: the write section of a run, or a consistent read.

        File: a write connection (the default) waits until no other connection to this file is open in
        any process that uses `Warehouse`, then applies pending migrations; a read-only one waits only for
        writers. DuckLake: no waiting; a write connection applies pending migrations (once per process),
        and its writes are transactions that may conflict with other writers' (see `transactions()`).
        Keep the block short and never call the API inside it.

        Raises:
            WarehouseBusyError: other runs kept the warehouse file for longer than `lock_timeout` seconds.
            WarehouseLockedError: a process outside ops-instantly held the file for that long.
            OpsError: no warehouse yet (read-only), a file it cannot be (`check_location`), or DuckDB could
                not open it.
        """
        if self.lake is not None:
            with _lake_connection(self.lake, read_only=read_only) as con:
                yield con
            return
        assert self.path is not None
        if read_only and not self.path.exists():
            raise OpsError(
                f"No warehouse at {self.path}", hint="run a push or sync first, or set OPS_WAREHOUSE"
            )
        self.check_location()
        deadline = time.monotonic() + self.lock_timeout
        with warehouse_lock(self.path, exclusive=not read_only, timeout=self.lock_timeout):
            con = quiet(self._open(read_only, deadline))
            try:
                if not read_only:
                    migrate(con)
                yield con
            finally:
                con.close()

    def check_location(self) -> None:
        """Refuse, before anything is written, a warehouse file this project cannot use:

        - one whose folder does not exist: a mistyped OPS_WAREHOUSE or --warehouse would otherwise become a
          new, empty warehouse in new folders, and the next run would not find this one's data. The default
          (./warehouse.duckdb) is in the current folder, which exists; the demo creates its own folder;
        - one named after a schema of the warehouse (`ops.duckdb`, `instantly.duckdb`): DuckDB names the
          database after its file, and `ops.source_tables` would then be ambiguous.

        Nothing to check on a DuckLake.

        Raises:
            OpsError: one line naming the file and what is wrong with it.
        """
        if self.path is None:
            return
        if self.path.stem.lower() in SCHEMAS:
            raise OpsError(
                f"Cannot use the warehouse {self.path}: a file named {self.path.name} clashes with the "
                f"warehouse's schema {self.path.stem.lower()!r}.",
                hint="give the file another name, such as warehouse.duckdb",
            )
        folder = self.path.parent
        if not folder.is_dir():
            why = "is not a folder" if folder.exists() else "does not exist"
            raise OpsError(
                f"Cannot create the warehouse {self.path}: its folder {folder} {why}.",
                hint=f"check {option('warehouse')} / OPS_WAREHOUSE for a typo, or create the folder first",
            )

    def others_waiting(self) -> bool:
        """Whether another connection is queued for this warehouse file now (never, on a DuckLake: its
        writers do not take turns). A long holder asks this to close and let it in."""
        return self.lake is None and self.path is not None and others_waiting(self.path)

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A write connection inside one transaction: committed at the end, rolled back on any error.

        On a DuckLake the COMMIT can fail with a conflict: use `transactions()` to run the block again.
        """
        with self.connect() as con:
            con.execute("BEGIN TRANSACTION")
            try:
                yield con
            except BaseException:
                _rollback(con)
                raise
            con.execute("COMMIT")

    def transactions(
        self, attempts: int = CONFLICT_ATTEMPTS
    ) -> Iterator[AbstractContextManager[duckdb.DuckDBPyConnection]]:
        """Attempts at one write transaction, run again while it conflicts with another writer's:

            for attempt in warehouse.transactions():
                with attempt as con:
                    ...  # the whole transaction: may run more than once, so no API calls in here

        Each attempt is a `transaction()`. A DuckLake conflict (at any statement or at COMMIT) rolls the
        attempt back and starts the next after a short random wait; any other error, or the last
        attempt's conflict, is raised. On a file there is nothing to conflict with (the lock).
        """
        for attempt in _conflict_retrying(attempts if self.lake else 1):
            yield _Attempt(attempt, self)

    def retrying(self, attempts: int = CONFLICT_ATTEMPTS) -> Retrying:
        """Like `transactions()`, for a transaction on a connection the caller holds (tenacity's
        `for attempt in warehouse.retrying(): with attempt: ...`): the block BEGINs and COMMITs itself
        and must roll back on failure."""
        return _conflict_retrying(attempts if self.lake else 1)

    def _open(self, read_only: bool, deadline: float) -> duckdb.DuckDBPyConnection:
        # Our own runs queue on the warehouse lock; this retry is for sessions outside it (a DuckDB CLI, a
        # notebook using duckdb.connect directly), which DuckDB reports as a lock error at once.
        delay = 0.05
        told = False
        while True:
            try:
                return duckdb.connect(str(self.path), read_only=read_only)
            except duckdb.IOException as exc:
                if "lock" not in str(exc).lower():
                    raise OpsError(
                        f"Cannot open the warehouse {self.path}: {str(exc).splitlines()[0]}"
                    ) from None
                left = deadline - time.monotonic()
                holder = lock_holder(str(exc))
                if not told and left > 1:  # a wait the user would otherwise sit through in silence
                    logging.getLogger(__name__).warning(
                        "The warehouse %s is held by a process outside ops-instantly%s: waiting up to %.0f s "
                        "for it.",
                        self.path,
                        f", {holder}" if holder else " (a DuckDB CLI, a notebook)",
                        left,
                    )
                    told = True
                if left <= 0:
                    raise WarehouseLockedError(
                        f"The warehouse {self.path} is locked by another process"
                        + (f", {holder}." if holder else "."),
                        hint="close the DuckDB session that has it open (a DuckDB CLI, a notebook; a "
                        "read-only one blocks a write too) or read it with "
                        "Warehouse(path).connect(read_only=True), which waits its turn; see docs/warehouse.md",
                    ) from None
                time.sleep(delay)
                delay = min(delay * 2, 0.5)

    # -- run history -----------------------------------------------------------------------------------

    def start_run(self, run_id: str, flow: str) -> list[str]:
        """Record a run as started in ops.sync_runs (`running`, with this process as its `runner`), and mark
        `crashed` the other `running` runs whose process has certainly ended (`warehouse/run_history.py`).

        Args:
            run_id: the run's id (its Prefect flow run id); a row with this id is replaced.
            flow: the flow's name (`push-leads`, `sync-engagement`).

        Returns:
            The run ids marked `crashed` (each also logged as one warning line).

        Raises:
            OpsError: the warehouse cannot be written (see `connect()`). Deciding which other runs ended never
                fails the start: a check that cannot be made leaves those rows as they are.
        """
        here = run_history.Runner.me()
        row = {"run_id": run_id, "flow": flow, "started_at": _now(), "finished_at": None}
        row |= {"status": "running", "counts": None, "message": None, "runner": here.text}
        for attempt in self.transactions():
            with attempt as con:
                crashed, undecided = run_history.crash_ended_here(con, run_id, here)
                upsert_row(con, "ops.sync_runs", ["run_id"], row)
        # Asked after the commit, holding no connection: Prefect's API may take seconds to answer.
        ended = run_history.ended_per_prefect(undecided)
        if ended:
            try:
                for attempt in self.transactions():
                    with attempt as con:
                        marked = run_history.mark_crashed(con, ended, noticed_by=run_id)
                crashed += marked
            except Exception:  # noqa: BLE001  the run has started; its own row is recorded
                logging.getLogger(__name__).debug("Could not mark ended runs crashed", exc_info=True)
        run_history.report_crashed(crashed)
        return [run.run_id for run in crashed]

    def finish_run(
        self, run_id: str, status: str, counts: dict[str, Any], message: str | None = None
    ) -> None:
        """Record a run's outcome and counts in ops.sync_runs (over `crashed` too, should a later run's start
        have taken this one for ended: see `start_run`)."""
        values = [_now(), status, json.dumps(counts, default=str), message, run_id]
        for attempt in self.transactions():
            with attempt as con:
                con.execute(
                    "UPDATE ops.sync_runs SET finished_at = ?, status = ?, counts = ?, message = ?"
                    " WHERE run_id = ?",
                    values,
                )


def table_exists(con: duckdb.DuckDBPyConnection, schema: str, name: str) -> bool:
    """True when `schema.name` is a table or view on this connection (the DuckDB file or the DuckLake)."""
    found = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
        [schema, name],
    ).fetchone()
    return bool(found and found[0])


def column_exists(con: duckdb.DuckDBPyConnection, schema: str, table: str, column: str) -> bool:
    """True when `schema.table` has `column` on this connection (a read-only connection to an older warehouse
    sees the columns of the migrations applied when it was last written)."""
    found = con.execute(
        "SELECT count(*) FROM information_schema.columns WHERE table_schema = ? AND table_name = ? "
        "AND column_name = ?",
        [schema, table, column],
    ).fetchone()
    return bool(found and found[0])


def _now() -> datetime:
    return datetime.now(UTC)


def _rollback(con: duckdb.DuckDBPyConnection) -> None:
    with contextlib.suppress(duckdb.Error):  # a failed COMMIT has already ended the transaction
        con.execute("ROLLBACK")


@contextmanager
def in_transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """BEGIN on `con`, COMMIT when the block ends; ROLLBACK when the block or the COMMIT raises, and re-raise.

    A failed COMMIT (on a DuckLake, a conflict with another writer) has already ended the transaction, so the
    ROLLBACK's own error is dropped and the caller's retry sees the conflict, not it.
    """
    con.execute("BEGIN TRANSACTION")
    try:
        yield
        con.execute("COMMIT")
    except BaseException:
        _rollback(con)
        raise


def _conflict_retrying(attempts: int) -> Retrying:
    return Retrying(
        retry=retry_if_exception(is_conflict),
        stop=stop_after_attempt(attempts),
        wait=wait_random_exponential(multiplier=0.05, max=2.0),
        reraise=True,
    )


class _Attempt:
    """One attempt of `Warehouse.transactions()`: a `transaction()` whose failure tenacity judges.

    Opening the connection is not part of the judged attempt: a warehouse that cannot be opened fails at
    once. The block's exception, or one from the COMMIT, goes to tenacity's AttemptManager, which swallows
    it while Retrying decides (a conflict: run again; anything else: raised by the loop).
    """

    def __init__(self, manager: Any, warehouse: Warehouse) -> None:
        self._manager = manager
        self._transaction = warehouse.transaction()

    def __enter__(self) -> duckdb.DuckDBPyConnection:
        return self._transaction.__enter__()

    def __exit__(self, *exc: Any) -> bool:
        try:
            self._transaction.__exit__(*exc)
        except BaseException as failure:
            return bool(self._manager.__exit__(type(failure), failure, failure.__traceback__))
        return bool(self._manager.__exit__(*exc))


# -- DuckLake connections ------------------------------------------------------------------------------
#
# One in-memory DuckDB per process and lake (and mode), with the extensions loaded and the lake attached
# once; every `connect()` is a cursor of it (its own transaction), so a connection costs no extension load,
# no ATTACH and no catalog round trip beyond DuckLake's own. Keyed by pid: a forked child opens its own.

_lakes: dict[tuple[int, str, str | None, bool], duckdb.DuckDBPyConnection] = {}
_migrated: set[tuple[int, str]] = set()  # lakes this process has migrated
_seen: set[tuple[int, str]] = set()  # lakes this process has found migrated (read-only)
_lakes_lock = threading.Lock()


@contextmanager
def _lake_connection(lake: LakeLocation, *, read_only: bool) -> Iterator[duckdb.DuckDBPyConnection]:
    with _lakes_lock:
        key = (os.getpid(), lake.catalog, lake.data_path, read_only)
        base = _lakes.get(key)
        if base is None:
            base = _lakes[key] = _attach_lake(lake, read_only=read_only)
        con = quiet(base.cursor())
    try:
        con.execute(f"USE {CATALOG}")
        this = (os.getpid(), lake.catalog)
        if not read_only and this not in _migrated:
            migrate(con, lake=True)
            _migrated.add(this)
        elif read_only and this not in _migrated and this not in _seen:
            if not _has_migrations(con):
                raise OpsError(
                    f"No warehouse at {lake.display}", hint="run a push or sync first, or set OPS_WAREHOUSE"
                )
            _seen.add(this)
        if read_only:  # one snapshot for the whole read: consistent, and one catalog lookup, not one a query
            con.execute("BEGIN TRANSACTION")
        yield con
    finally:
        con.close()


def _attach_lake(lake: LakeLocation, *, read_only: bool) -> duckdb.DuckDBPyConnection:
    base = duckdb.connect(config=dict(OFFLINE_CONFIG))
    try:
        load_extensions(base)
        base.execute(lake.attach_sql(read_only=read_only))
    except duckdb.Error as exc:
        base.close()
        first = redact_passwords(str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__)
        if "creating a new DuckLake is explicitly disabled" in first:
            raise OpsError(
                f"No warehouse at {lake.display}", hint="run a push or sync first, or set OPS_WAREHOUSE"
            ) from None
        raise OpsError(
            f"Cannot open the warehouse {lake.display}: {first}",
            hint="check the catalog database exists and is reachable, and OPS_WAREHOUSE_DATA_PATH "
            "for a new lake",
        ) from None
    return base


def _has_migrations(con: duckdb.DuckDBPyConnection) -> bool:
    try:
        con.execute("SELECT 1 FROM main._migrations LIMIT 1").fetchall()
    except duckdb.CatalogException:
        return False
    return True


def close_lakes() -> None:
    """Close this process's DuckLake connections (tests, before dropping a catalog database)."""
    with _lakes_lock:
        for key in [k for k in _lakes if k[0] == os.getpid()]:
            _lakes.pop(key).close()
        _migrated.clear()
        _seen.clear()
