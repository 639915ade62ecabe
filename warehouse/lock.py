"""One writer at a time: a cross-process readers-writer lock on a file beside the DuckDB warehouse.

DuckDB lets one process open a file for writing and fails any other at once ("Could not set lock on
file"); two threads of one process writing the same rows fail with "Transaction conflict". So every
connection first takes an OS lock on `<warehouse>.lock` (`flock(2)`): writers exclusively, readers shared.
Waiters queue in the kernel and are woken the moment the holder lets go, so runs that write one warehouse
take turns (each write is short) instead of polling the file and giving up after a fixed time. Threads
of one process queue the same way (each acquisition opens the lock file anew).

Why a file lock rather than a Prefect global concurrency limit named after the warehouse: a DuckDB file
is local to one machine; the CLI runs flows on a temporary per-process Prefect API, where a limit is
invisible to other processes; notebooks and the report read without any Prefect API; and a limit must be
created first, while `flock` needs no setup and is released by the kernel when a process dies, so a
crashed run never leaves the warehouse held.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ops_core.errors import OpsError

# Re-entrancy: a thread that holds the lock on a file may open further connections to it (nested
# `Warehouse.connect()` calls) without queueing behind itself. Keyed by lock file path.
_held = threading.local()


class WarehouseBusyError(OpsError):
    """The warehouse lock was not granted in time: another run kept writing for longer than the timeout."""


def lock_path(warehouse: Path) -> Path:
    """The lock file for a warehouse file: `warehouse.duckdb` -> `warehouse.duckdb.lock`."""
    return warehouse.with_name(warehouse.name + ".lock")


def _waiting_path(warehouse: Path) -> Path:
    # Whoever queues for the lock holds a shared flock on this file until it is served (or gives up).
    return warehouse.with_name(warehouse.name + ".lock.wait")


def others_waiting(warehouse: Path) -> bool:
    """Whether a process or thread is queued for this warehouse's lock right now (readers and writers).

    A holder that keeps its connection open across many short writes (the push's bookkeeper) asks this to
    let a waiter in soon, instead of closing, and so checkpointing, on a fixed clock.
    """
    try:
        fd = os.open(str(_waiting_path(warehouse)), os.O_RDWR | os.O_CREAT, 0o666)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # closing the descriptor releases the probe's own lock
    return False


@contextmanager
def warehouse_lock(warehouse: Path, *, exclusive: bool, timeout: float) -> Iterator[float]:
    """Hold the warehouse's lock: exclusive for writers, shared for readers. Yields the seconds waited.

    Args:
        warehouse: the DuckDB file (its folder must exist; the lock file is created beside it).
        exclusive: True for a write connection, False for a read-only one.
        timeout: seconds to wait in the queue before giving up.

    Raises:
        WarehouseBusyError: the lock was not granted within `timeout` seconds.
        OpsError: a write connection asked for inside a read-only one of the same thread (upgrading a
            shared lock in place could deadlock two such threads).
    """
    path = str(lock_path(warehouse))
    held: dict[str, tuple[bool, int]] = _held.__dict__.setdefault("locks", {})
    if path in held:
        mode, depth = held[path]
        if exclusive and not mode:
            raise OpsError(
                f"A write connection to {warehouse} was opened inside a read-only one (same thread)."
            )
        held[path] = (mode, depth + 1)
        try:
            yield 0.0
        finally:
            held[path] = (mode, held[path][1] - 1)
        return
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError:
        if exclusive:
            raise
        # A reader without write access to the folder: DuckDB's own lock (and its retry) still applies.
        yield 0.0
        return
    started = time.monotonic()
    _acquire(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH, timeout, warehouse)
    waited = time.monotonic() - started
    held[path] = (exclusive, 1)
    try:
        yield waited
    finally:
        del held[path]
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _acquire(fd: int, operation: int, timeout: float, warehouse: Path) -> None:
    """Take the flock on `fd`, waiting in the kernel's queue for at most `timeout` seconds.

    On failure `fd` is closed: at once, or (after a timeout or an interrupt) by the waiting thread as soon
    as the kernel grants it the lock, which it then releases. A blocking `flock` has no timeout, hence
    the helper thread.
    """
    try:
        fcntl.flock(fd, operation | fcntl.LOCK_NB)
        return
    except BlockingIOError:
        pass
    except BaseException:
        os.close(fd)
        raise
    with _queued(warehouse):
        _wait_in_queue(fd, operation, timeout, warehouse)


@contextmanager
def _queued(warehouse: Path) -> Iterator[None]:
    """Be seen by `others_waiting` while blocked: a shared flock on the waiting file."""
    try:
        fd = os.open(str(_waiting_path(warehouse)), os.O_RDWR | os.O_CREAT, 0o666)
    except OSError:  # a folder we cannot write to: we wait unseen, and the holder's clock still applies
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)  # a holder's probe takes it exclusively only for an instant
        yield
    finally:
        os.close(fd)


def _wait_in_queue(fd: int, operation: int, timeout: float, warehouse: Path) -> None:
    state = threading.Lock()
    done = threading.Event()
    abandoned = False
    failure: list[OSError] = []

    def wait() -> None:
        try:
            fcntl.flock(fd, operation)
        except OSError as exc:
            failure.append(exc)
        with state:
            if abandoned:
                os.close(fd)  # closing the only descriptor also releases the lock
            done.set()

    threading.Thread(target=wait, name="warehouse-lock-wait", daemon=True).start()
    try:
        done.wait(timeout)
    finally:
        with state:
            abandoned = not done.is_set()
    if abandoned:
        raise WarehouseBusyError(
            f"The warehouse {warehouse} stayed busy for {timeout:g} s: other runs kept writing to it.",
            hint="raise the lock timeout, or spread the schedules of runs that write the same warehouse",
        )
    if failure:
        os.close(fd)
        raise OpsError(f"Could not lock the warehouse {warehouse}: {failure[0]}")
