"""The push guard: one push of a source table at a time, across processes and threads, on both backends;
a waiter names the other run; a killed holder frees it at once.

Real parts: `flock` on a file beside a DuckDB warehouse, and a Postgres advisory lock in the database a
DuckLake's catalog would live in (the guard needs only that database, not the lake itself).
"""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import threading
import uuid
from pathlib import Path

import pytest

from tests.warehouse_backends import lake_url
from warehouse.db import Warehouse
from warehouse.push_guard import OtherPushRunningError, advisory_key, push_guard, push_lock_path

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(params=["file", "ducklake"])
def guarded(request: pytest.FixtureRequest, tmp_path: Path) -> Warehouse:
    """A warehouse of each backend, as the guard sees it (a DuckLake's catalog database, here `test`)."""
    if request.param == "file":
        return Warehouse(tmp_path / "warehouse.duckdb")
    request.getfixturevalue("postgres_url")  # skips (or fails in CI) without Postgres
    return Warehouse(lake_url("test"))


def _table() -> str:
    return f"leads_{uuid.uuid4().hex[:8]}"  # the test database is shared: every test guards its own table


def _holder(warehouse: Warehouse, table: str, tmp_path: Path, *, seconds: float) -> subprocess.Popen[str]:
    """Another process holding the guard for `seconds` (run id `holder-run`); returns once it holds it."""
    released = tmp_path / "released"
    code = textwrap.dedent(
        f"""
        import time
        from pathlib import Path
        from warehouse.db import Warehouse
        from warehouse.push_guard import push_guard
        with push_guard(Warehouse({warehouse.location!r}), {table!r}, run_id="holder-run", wait=0):
            print("held", flush=True)
            time.sleep({seconds})
            Path({str(released)!r}).touch()  # the last thing done while holding it
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=REPO, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def test_a_second_push_waits_for_the_first_then_gets_the_guard(guarded: Warehouse, tmp_path: Path) -> None:
    table = _table()
    holder = _holder(guarded, table, tmp_path, seconds=1.5)
    told: list[str] = []
    try:
        with push_guard(guarded, table, run_id="second-run", wait=60, warn=told.append):
            assert (tmp_path / "released").exists()  # granted only after the holder let go
    finally:
        holder.kill()
        holder.wait()
    assert len(told) == 1, told
    assert f"Another push of ops.{table} is running, run holder-run (pid {holder.pid} on " in told[0]
    assert "waiting up to 60 s" in told[0]


def test_a_push_that_waits_too_long_fails_naming_the_other_run(guarded: Warehouse, tmp_path: Path) -> None:
    table = _table()
    holder = _holder(guarded, table, tmp_path, seconds=60)
    try:
        with (
            pytest.raises(OtherPushRunningError) as failed,
            push_guard(guarded, table, run_id="second-run", wait=0.5),
        ):
            pytest.fail("the guard was granted while another process held it")
    finally:
        holder.kill()
        holder.wait()
    message = str(failed.value)
    assert message.startswith(f"Another push of ops.{table} is running: run holder-run (pid {holder.pid} on ")
    assert "waited 0.5 s for it to end" in message
    # Called as a flow run does: its parameter (the CLI says `--wait SECONDS`: tests/ops_core/test_interface.py).
    assert (failed.value.hint or "").endswith("or wait longer with the `wait_seconds` parameter")


def test_kill_9_of_the_holder_frees_the_guard_at_once(guarded: Warehouse, tmp_path: Path) -> None:
    table = _table()
    holder = _holder(guarded, table, tmp_path, seconds=600)
    with pytest.raises(OtherPushRunningError), push_guard(guarded, table, run_id="second-run", wait=0):
        pass
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=30)
    # The kernel (a file) or Postgres (a lake: the session ended with its socket) dropped it: no expiry.
    with push_guard(guarded, table, run_id="after-the-crash", wait=10):
        assert not (tmp_path / "released").exists()  # the holder never got to let go itself


def test_threads_of_one_process_exclude_each_other(guarded: Warehouse) -> None:
    table = _table()
    inside = threading.Event()
    leave = threading.Event()

    def hold() -> None:
        with push_guard(guarded, table, run_id="thread-one", wait=10):
            inside.set()
            leave.wait(30)

    first = threading.Thread(target=hold)
    first.start()
    try:
        assert inside.wait(30)
        with (
            pytest.raises(OtherPushRunningError, match="run thread-one"),
            push_guard(guarded, table, run_id="thread-two", wait=0),
        ):
            pass
    finally:
        leave.set()
        first.join(30)
    with push_guard(guarded, table, run_id="thread-two", wait=10):
        pass


def test_pushes_of_different_tables_do_not_wait_for_each_other(guarded: Warehouse) -> None:
    first, second = _table(), _table()
    with (
        push_guard(guarded, first, run_id="one", wait=0),
        push_guard(guarded, second, run_id="two", wait=0),
    ):
        pass


def test_lock_files_keep_names_apart_that_differ_only_in_unsafe_characters(tmp_path: Path) -> None:
    base = tmp_path / "w.duckdb"
    assert push_lock_path(base, "leads") == tmp_path / "w.duckdb.push-locks" / "leads.lock"
    assert push_lock_path(base, "my leads") != push_lock_path(base, "my_leads")
    assert push_lock_path(base, "a/b").parent == tmp_path / "w.duckdb.push-locks"  # never a sub-folder
    assert advisory_key("leads") == advisory_key("leads") != advisory_key("leads2")


def test_a_lake_guard_whose_postgres_session_ends_while_held_says_so_at_the_end(postgres_url: str) -> None:
    import psycopg

    table = _table()
    told: list[str] = []
    with push_guard(Warehouse(lake_url("test")), table, run_id="cut-off", wait=0, warn=told.append):
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            ended = admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE %s",
                ["ops-instantly push cut-off %"],
            ).fetchall()
        assert ended == [(True,)]
    assert len(told) == 1 and "was lost while this run held it" in told[0], told
