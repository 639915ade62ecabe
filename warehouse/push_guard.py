"""One push of a source table at a time, across processes and machines: the push guard.

The push ledger is an intent log (warehouse/ledger.py): a run's `pending` intents are open until their
outcomes are written, and a run's reconcile step reads every open intent of its scope (workspace, campaign,
source table) as the leftover of a crashed run. Two runs on one scope at once would each read the other's
live intents as leftovers, report rows the other created as their own `created`, and could send a row twice.
So a push holds this guard from before it extracts `ops.<table>` until its last campaign is done: the guard
is per source table of a warehouse, which covers every (workspace, campaign) scope of that table, and also
the extract, which replaces `ops.<table>` that a running push reads its rows from by position.

A second run waits for the first to end (up to `wait` seconds; then `OtherPushRunningError`, naming the
other run), then runs as a new run does: the first run's outcomes are in the ledger, so its rows are reported
as already pushed. A crashed run holds nothing: its leftovers are open intents that the next run reconciles.

Backends (both release by themselves when the process dies, `kill -9` included, with no expiry to tune):

- a DuckDB file: an exclusive `flock(2)` on `<warehouse>.push-locks/<table>.lock` (the kernel drops it
  when the holder's process ends). The holder writes who it is into the file, for the waiter's message.
  A DuckDB file lives on one machine, so a local lock covers every writer.
- a DuckLake: a Postgres session-level advisory lock in the lake's catalog database (which every worker of
  the lake, on any machine, reaches), on a connection of its own held for the push. It ends with the
  session: a killed process's socket closes at once; a host that vanishes is noticed by the session's TCP
  keepalives within about a minute. Who holds it is read from `pg_stat_activity` (its application name).

Why not a lease row in the warehouse (an expiry renewed by a heartbeat): a stalled but live holder (a long
GC pause, a suspended laptop) loses its lease while it still sends, a crashed one blocks every push until
the expiry, clocks of several machines must agree, and on a DuckLake two claims are optimistic transactions
that conflict and retry. A lock owned by the process or session has none of these.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from ops_core.errors import OpsError
from ops_core.interface import option
from ops_core.urls import redact_passwords
from warehouse.db import Warehouse
from warehouse.lake import LakeLocation

__all__ = ["DEFAULT_WAIT_SECONDS", "Holder", "OtherPushRunningError", "push_guard", "push_lock_path"]

# How long a push waits for another push of the same table: long enough for a large one (a million leads to
# one campaign took about 2 minutes in bench/README.md, more to several campaigns or at a lower rate), short
# enough that an hourly schedule's runs do not pile up behind a stuck one.
DEFAULT_WAIT_SECONDS = 1800.0
POLL_SECONDS = 1.0  # a waiter asks again this often (a push takes minutes: a second late is nothing)
_APP_PREFIX = "ops-instantly push "  # the guard session's application_name: `<prefix><run id> <pid>@<host>`
_APP_NAME_MAX = 63  # Postgres truncates application_name to NAMEDATALEN - 1 bytes


class OtherPushRunningError(OpsError):
    """Another push of the same source table to this warehouse kept running for longer than the wait."""


@dataclass(frozen=True)
class Holder:
    """Who holds (or asks for) the guard: for the waiter's messages, never for deciding anything."""

    run_id: str
    pid: int | None = None
    host: str | None = None
    since: datetime | None = None

    @classmethod
    def me(cls, run_id: str) -> Holder:
        return cls(run_id=run_id, pid=os.getpid(), host=socket.gethostname(), since=datetime.now(UTC))

    def describe(self) -> str:
        """`run 1f2e... (pid 4242 on worker-2, since 2026-11-30 04:01:07 UTC)`."""
        where = " ".join(
            p for p in (f"pid {self.pid}" if self.pid else "", f"on {self.host}" if self.host else "") if p
        )
        since = f"since {self.since.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC" if self.since else ""
        details = ", ".join(d for d in (where, since) if d)
        return f"run {self.run_id}" + (f" ({details})" if details else "")


class _Lock(Protocol):
    def try_acquire(self) -> bool: ...
    def holder(self) -> Holder | None: ...
    def close(self) -> bool: ...  # False: the lock was lost while held


@contextmanager
def push_guard(
    warehouse: Warehouse,
    table: str,
    *,
    run_id: str,
    wait: float = DEFAULT_WAIT_SECONDS,
    warn: Callable[[str], None] | None = None,
) -> Iterator[None]:
    """Hold the push guard of `ops.<table>` in `warehouse` while the block runs (waiting for it first).

    Args:
        table: the source table's name in the warehouse (`ops.<table>`).
        run_id: this run's id, shown to a run that waits for this one.
        wait: seconds to wait for another push of the table to end; 0 fails at once if one is running.
        warn: called with a one-line message (the run's log) once if this run has to wait, and if the guard
            turns out at the end to have been lost while held (a DuckLake's Postgres session ended).

    Raises:
        OtherPushRunningError: another push of the table kept it for longer than `wait` seconds.
        OpsError: the lock could not be taken (a folder not writable, the catalog database unreachable).
    """
    me = Holder.me(run_id)
    held = False
    lock: _Lock = _LakeLock(warehouse.lake, table, me) if warehouse.lake else _FileLock(warehouse, table, me)
    try:
        deadline = time.monotonic() + wait
        told = False
        while not lock.try_acquire():
            left = deadline - time.monotonic()
            other = _describe(lock.holder())
            if left <= 0:
                raise OtherPushRunningError(
                    f"Another push of ops.{table} is running: {other}; waited {wait:g} s for it to end.",
                    hint="run this push again when it has ended, or wait longer with "
                    f"{option('wait_seconds', metavar='SECONDS')}",
                )
            if not told and warn is not None:
                warn(
                    f"Another push of ops.{table} is running, {other}: waiting up to {wait:g} s for it to end."
                )
                told = True
            time.sleep(min(POLL_SECONDS, left))
        held = True
        yield
    finally:
        kept = lock.close()
    if held and not kept and warn is not None:
        warn(
            f"The push guard of ops.{table} was lost while this run held it (its Postgres session ended): "
            "another push of the table may have run alongside; run the push again to reconcile."
        )


def _describe(holder: Holder | None) -> str:
    return holder.describe() if holder is not None else "another run"


# -- a DuckDB file: flock ---------------------------------------------------------------------------------


def push_lock_path(warehouse: Path, table: str) -> Path:
    """The guard's lock file of `ops.<table>`: `<warehouse>.push-locks/<table>.lock` (pure).

    Characters other than letters, digits, `_`, `-` and `.` become `_`, with a short hash of the name so
    that two names differing only in those characters keep apart.
    """
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", table)
    if safe != table:
        safe += "-" + hashlib.sha256(table.encode()).hexdigest()[:8]
    return warehouse.with_name(warehouse.name + ".push-locks") / f"{safe}.lock"


class _FileLock:
    """An exclusive flock: each acquisition opens the file anew, so threads of one process exclude too."""

    def __init__(self, warehouse: Warehouse, table: str, me: Holder) -> None:
        assert warehouse.path is not None
        self.path = push_lock_path(warehouse.path, table)
        self.me = me
        self.fd: int | None = None

    def try_acquire(self) -> bool:
        if self.fd is None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
            except OSError as exc:
                raise OpsError(f"Cannot create the push lock {self.path}: {exc.strerror}") from None
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, json.dumps(_as_json(self.me)).encode(), 0)
        return True

    def holder(self) -> Holder | None:
        try:
            data = json.loads(self.path.read_text() or "null")
            return Holder(data["run_id"], data["pid"], data["host"], datetime.fromisoformat(data["since"]))
        except (OSError, ValueError, TypeError, KeyError):
            return None  # written by a holder that is just taking it, or unreadable: "another run"

    def close(self) -> bool:
        if self.fd is not None:
            os.close(self.fd)  # closing the only descriptor releases the flock; the file stays (no race)
            self.fd = None
        return True  # a flock lasts as long as its process


def _as_json(holder: Holder) -> dict[str, Any]:
    since = holder.since.isoformat() if holder.since else None
    return {"run_id": holder.run_id, "pid": holder.pid, "host": holder.host, "since": since}


# -- a DuckLake: a Postgres advisory lock in the catalog database -----------------------------------------


def advisory_key(table: str) -> int:
    """The advisory lock's signed 64-bit key for `ops.<table>` (pure; a collision only makes two tables
    take turns)."""
    digest = hashlib.blake2b(f"ops-instantly push ops.{table}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class _LakeLock:
    """A session-level advisory lock on a connection of its own, kept open until `close`."""

    def __init__(self, lake: LakeLocation, table: str, me: Holder) -> None:
        self.lake = lake
        self.key = advisory_key(table)
        self.me = me
        self.con: Any = None
        self.held = False

    def _connect(self) -> Any:
        import psycopg

        app = f"{_APP_PREFIX}{self.me.run_id} {self.me.pid}@{self.me.host}"
        try:
            con = psycopg.connect(
                self.lake.catalog.removeprefix("postgres:").strip(),
                autocommit=True,
                connect_timeout=30,
                application_name=app.encode()[:_APP_NAME_MAX].decode(errors="ignore"),
            )
        except psycopg.Error as exc:
            first = redact_passwords(
                str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            )
            raise OpsError(
                f"Cannot reach the catalog database of {self.lake.display} to take the push's lock: {first}",
                hint="check the catalog database is reachable from this machine",
            ) from None
        # The session is idle for the whole push: no idle timeout may end it (and free the lock), and the
        # server should notice within about a minute if this host vanishes without closing it.
        for setting, value in (
            ("idle_session_timeout", "0"),
            ("tcp_keepalives_idle", "30"),
            ("tcp_keepalives_interval", "10"),
            ("tcp_keepalives_count", "3"),
        ):
            # An older server may lack a setting (idle_session_timeout is Postgres 14+): then it has no effect.
            with contextlib.suppress(psycopg.Error):
                con.execute("SELECT set_config(%s, %s, false)", [setting, value])
        return con

    def try_acquire(self) -> bool:
        import psycopg

        if self.con is None:
            self.con = self._connect()
        try:
            row = self.con.execute("SELECT pg_try_advisory_lock(%s)", [self.key]).fetchone()
        except psycopg.OperationalError as exc:  # the server went away while this run waited
            raise OpsError(
                f"Lost the catalog database of {self.lake.display} while taking the push's lock: "
                + redact_passwords(
                    str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                ),
                hint="run the push again when the catalog database is reachable",
            ) from None
        self.held = bool(row and row[0])
        return self.held

    def holder(self) -> Holder | None:
        # pg_locks shows a bigint advisory key as classid (high 32 bits) and objid (low), objsubid 1.
        unsigned = self.key & 0xFFFFFFFFFFFFFFFF
        row = self.con.execute(
            "SELECT a.application_name, a.backend_start, host(a.client_addr) FROM pg_locks l"
            " JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted"
            " AND l.objsubid = 1 AND l.classid::bigint = %s AND l.objid::bigint = %s LIMIT 1",
            [unsigned >> 32, unsigned & 0xFFFFFFFF],
        ).fetchone()
        if row is None:
            return None
        app, since, client = row
        if not (app or "").startswith(_APP_PREFIX):
            return None  # a session we cannot name (another role's, whose application name is hidden)
        run_id, _, where = app[len(_APP_PREFIX) :].partition(" ")
        pid, _, host = where.partition("@")
        return Holder(
            run_id=run_id, pid=int(pid) if pid.isdigit() else None, host=host or client, since=since
        )

    def close(self) -> bool:
        if self.con is None:
            return True
        kept = True
        try:
            if self.held:
                row = self.con.execute("SELECT pg_advisory_unlock(%s)", [self.key]).fetchone()
                kept = bool(row and row[0])
        except Exception:  # noqa: BLE001  the session is gone, and the lock went with it
            kept = False
        finally:
            self.con.close()
            self.con = None
        kept = kept or not self.held
        self.held = False
        return kept
