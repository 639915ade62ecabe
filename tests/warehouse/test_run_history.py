"""A run whose process is gone does not stay `running` in ops.sync_runs: the next run's start marks it crashed.

Real processes (started, recorded, SIGKILLed), real DuckDB files and DuckLakes, and for rows from elsewhere the
session's real Prefect API.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ops_instantly._paths import REPO_ROOT
from warehouse.db import Warehouse
from warehouse.run_history import Runner, RunningRun, mark_crashed, parse_stat

# A process that records run `argv[2]` as started in the warehouse `argv[1]`, says so, then waits to be killed.
_RECORD_AND_WAIT = """
import os, sys, time
from blocks.warehouse import open_warehouse
open_warehouse(sys.argv[1], os.environ.get("OPS_WAREHOUSE_DATA_PATH")).start_run(sys.argv[2], "push-leads")
print(os.getpid(), flush=True)
time.sleep(600)
"""


@contextmanager
def recording_process(location: str, run_id: str) -> Iterator[subprocess.Popen[str]]:
    """A live process that has recorded `run_id` as running (killed and reaped at the end, if still alive)."""
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-c", _RECORD_AND_WAIT, location, run_id],
        stdout=subprocess.PIPE, text=True, env=env, cwd=REPO_ROOT,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == str(proc.pid), "the process did not record its run"
        yield proc
    finally:
        proc.kill()
        proc.wait(timeout=30)


def run_row(warehouse: Warehouse, run_id: str) -> dict[str, Any]:
    with warehouse.connect(read_only=True) as con:
        cursor = con.execute("SELECT * FROM ops.sync_runs WHERE run_id = ?", [run_id])
        names = [d[0] for d in cursor.description]
        found = cursor.fetchone()
    assert found is not None, run_id
    return dict(zip(names, found, strict=True))


def insert_running(warehouse: Warehouse, run_id: str, runner: str | None) -> None:
    """A `running` row as another process would have left it (started an hour ago)."""
    with warehouse.transaction() as con:
        con.execute(
            "INSERT INTO ops.sync_runs (run_id, flow, started_at, status, counts, runner)"
            " VALUES (?, 'sync-engagement', ?, 'running', '{\"leads\": 7}', ?)",
            [run_id, datetime.now(UTC) - timedelta(hours=1), runner],
        )


# -- the runner's text and /proc's stat line (pure) --------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("4242 (python3.11) S 1 4242 4242 0 -1 4194560 " + "0 " * 12 + "912345 1 0", ("S", 912345)),
        # The command name may hold spaces and parentheses: fields are counted from the last `)`.
        ("77 (a) b (c)) Z 1 77 77 0 -1 0 " + "0 " * 12 + "5 1 0", ("Z", 5)),
    ],
)
def test_parse_stat_reads_state_and_start_time_after_the_command_name(
    line: str, expected: tuple[str, int]
) -> None:
    assert parse_stat(line) == expected


def test_this_process_runner_reads_back_as_itself_with_its_start_time() -> None:
    me = Runner.me()
    assert me.pid == os.getpid() and me.start is not None and me.boot and me.pidns
    assert me.text.startswith(f"{os.getpid()}@")
    assert Runner.parse(me.text) == me
    with open(f"/proc/{os.getpid()}/stat") as stat:
        assert me.start == int(stat.read().rsplit(")", 1)[1].split()[19])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("4242@worker-2", Runner(4242, "worker-2")),
        (
            "4242@worker-2 start=9 boot=048cb26d-0f36-4555-be28-a880facb547a pidns=4026531836",
            Runner(4242, "worker-2", 9, "048cb26d-0f36-4555-be28-a880facb547a", 4026531836),
        ),
        (None, None),
        ("", None),
        ("0@host", None),  # pid 0 would be kill()'s "my process group"
        ("-1@host", None),
        ("4242 on worker-2", None),
    ],
)
def test_a_runner_is_read_only_in_the_forms_written(text: str | None, expected: Runner | None) -> None:
    assert Runner.parse(text) == expected


# -- a later run's start on the same machine ---------------------------------------------------------------


def test_a_run_whose_process_was_killed_becomes_crashed_at_the_next_start(warehouse: Warehouse) -> None:
    with recording_process(warehouse.location, "killed-run") as victim:
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=30)
    before = datetime.now(UTC)

    assert warehouse.start_run("next-run", "push-leads") == ["killed-run"]

    row = run_row(warehouse, "killed-run")
    assert row["status"] == "crashed"
    assert row["finished_at"] >= before
    assert row["counts"] is None  # as the killed run left it
    assert row["message"] == (
        f"the run's process ended without recording an outcome (killed: pid {victim.pid} on "
        f"{Runner.me().host} is gone); noticed by run next-run"
    )
    assert row["runner"].startswith(f"{victim.pid}@")
    mine = run_row(warehouse, "next-run")
    assert (mine["status"], mine["runner"]) == ("running", Runner.me().text)


def test_a_run_whose_process_is_alive_stays_running(warehouse: Warehouse) -> None:
    warehouse.start_run("this-process", "sync-engagement")
    with recording_process(warehouse.location, "alive-run"):
        assert warehouse.start_run("next-run", "push-leads") == []
        assert run_row(warehouse, "alive-run")["status"] == "running"
        assert run_row(warehouse, "this-process")["status"] == "running"  # this process is alive too


def test_an_exited_but_unreaped_process_counts_as_ended(warehouse_path: Path) -> None:
    # A zombie still has its pid and start time in /proc until its parent waits for it.
    warehouse = Warehouse(warehouse_path)
    with recording_process(str(warehouse_path), "zombie-run") as victim:
        os.kill(victim.pid, signal.SIGKILL)
        os.waitid(os.P_PID, victim.pid, os.WEXITED | os.WNOWAIT)  # it has exited; not reaped
        with open(f"/proc/{victim.pid}/stat") as stat:
            assert parse_stat(stat.read())[0] == "Z"
        assert warehouse.start_run("next-run", "push-leads") == ["zombie-run"]


def test_a_row_whose_pid_now_belongs_to_a_process_started_at_another_time_becomes_crashed(
    warehouse: Warehouse,
) -> None:
    # The row as a process with this pid, started earlier, recorded it: that process is gone and its pid is
    # now a live process's (the honest kernel-level case is the next test).
    with recording_process(warehouse.location, "alive-run") as live:
        current = Runner.parse(run_row(warehouse, "alive-run")["runner"])
        assert current is not None and current.start is not None
        earlier = Runner(current.pid, current.host, current.start - 1, current.boot, current.pidns)
        insert_running(warehouse, "earlier-run", earlier.text)

        assert warehouse.start_run("next-run", "push-leads") == ["earlier-run"]

        assert run_row(warehouse, "earlier-run")["status"] == "crashed"
        assert run_row(warehouse, "earlier-run")["counts"] == '{"leads": 7}'  # counts as they were
        assert run_row(warehouse, "alive-run")["status"] == "running"
        assert live.poll() is None


_REUSED_PID = """
import json, os, subprocess, sys
from warehouse.db import Warehouse
location, record = sys.argv[1], sys.argv[2]
victim = subprocess.Popen([sys.executable, "-c", record, location, "killed-run"], stdout=subprocess.PIPE, text=True)
assert victim.stdout.readline().strip() == str(victim.pid)
victim.kill(); victim.wait()
# This pid namespace is ours alone: the next process gets the killed one's pid.
with open("/proc/sys/kernel/ns_last_pid", "w") as f:
    f.write(str(victim.pid - 1))
successor = subprocess.Popen(["sleep", "60"])
try:
    marked = Warehouse(location).start_run("next-run", "push-leads")
finally:
    successor.kill(); successor.wait()
print(json.dumps({"victim": victim.pid, "successor": successor.pid, "marked": marked}))
"""


def test_a_killed_runs_pid_taken_by_a_new_process_still_reads_as_crashed(warehouse_path: Path) -> None:
    # A real reuse of the pid, in a pid namespace of its own (so the test sets the next pid without racing
    # the machine's other processes): needs root and unshare(1), which CI's container has.
    if shutil.which("unshare") is None or os.geteuid() != 0:
        pytest.skip("needs root and unshare(1) to make a pid namespace")
    done = subprocess.run(
        ["unshare", "--pid", "--fork", "--mount-proc", sys.executable, "-c", _REUSED_PID,
         str(warehouse_path), _RECORD_AND_WAIT],
        capture_output=True, text=True, timeout=120, cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["successor"] == result["victim"], result  # the pid really was reused
    assert result["marked"] == ["killed-run"]
    assert run_row(Warehouse(warehouse_path), "killed-run")["status"] == "crashed"


def test_rows_this_machine_cannot_judge_stay_running_without_a_prefect_api(warehouse: Warehouse) -> None:
    me = Runner.me()
    assert me.start is not None
    other_boot = Runner(me.pid + 1_000_000, me.host, 1, str(uuid.uuid4()), me.pidns)  # same host name, too
    other_namespace = Runner(me.pid + 1_000_000, me.host, 1, me.boot, (me.pidns or 0) + 1)
    rows = {
        "another-boot": other_boot.text,
        "another-container": other_namespace.text,
        "no-proc": f"{me.pid + 1_000_000}@elsewhere",  # a runner without /proc's start time
        "before-0016": None,
    }
    for run_id, runner in rows.items():
        insert_running(warehouse, run_id, runner)

    assert warehouse.start_run("next-run", "push-leads") == []

    assert {run_id: run_row(warehouse, run_id)["status"] for run_id in rows} == dict.fromkeys(rows, "running")


def test_a_row_started_again_since_it_was_read_is_not_marked(warehouse: Warehouse) -> None:
    # A flow run retried under the same id writes a new started_at: the stale reading must not touch it.
    insert_running(warehouse, "retried-run", None)
    stale = RunningRun("retried-run", "sync-engagement", datetime.now(UTC) - timedelta(days=1), None)
    for attempt in warehouse.transactions():
        with attempt as con:
            assert mark_crashed(con, [(stale, "killed: test")], noticed_by="next-run") == []
    assert run_row(warehouse, "retried-run")["status"] == "running"


def test_the_warning_names_the_crashed_run(warehouse_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    warehouse = Warehouse(warehouse_path)
    with recording_process(str(warehouse_path), "killed-run"):
        pass  # killed on leaving
    with caplog.at_level("WARNING", logger="warehouse.run_history"):
        warehouse.start_run("next-run", "push-leads")
    told = [r.getMessage() for r in caplog.records if r.name == "warehouse.run_history"]
    assert len(told) == 1 and told[0].startswith("Run killed-run (push-leads, started "), told
    assert told[0].endswith("ended without recording an outcome: ops.sync_runs now says crashed.")


# -- rows from elsewhere: Prefect's word ----------------------------------------------------------------------


def _flow_run_in(state_type: str) -> str:
    """A flow run on the session's Prefect API in a state of `state_type` (a StateType name); its id."""
    from prefect import flow
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.objects import State, StateType

    @flow(name="run-history-probe")
    def probe() -> None:
        pass

    with get_client(sync_client=True) as client:
        flow_run = client.create_flow_run(probe)
        client.set_flow_run_state(flow_run.id, State(type=StateType[state_type]), force=True)
    return str(flow_run.id)


@pytest.mark.slow
def test_rows_from_elsewhere_whose_prefect_flow_run_ended_become_crashed(
    prefect_harness: None, warehouse: Warehouse
) -> None:
    elsewhere = f"4242@worker-9 start=1 boot={uuid.uuid4()} pidns=4026531836"
    runs = {state: _flow_run_in(state) for state in ("CRASHED", "COMPLETED", "RUNNING", "PENDING")}
    for run_id in runs.values():
        insert_running(warehouse, run_id, elsewhere)
    insert_running(warehouse, "not-a-flow-run", elsewhere)
    old = _flow_run_in("FAILED")
    insert_running(warehouse, old, None)  # written before migration 0016

    marked = warehouse.start_run("next-run", "push-leads")

    assert sorted(marked) == sorted([runs["CRASHED"], runs["COMPLETED"], old])
    crashed = run_row(warehouse, runs["CRASHED"])
    assert crashed["status"] == "crashed" and crashed["counts"] == '{"leads": 7}'
    assert crashed["message"] == (
        "the run's process ended without recording an outcome (killed, or its machine stopped: "
        "its Prefect flow run is Crashed); noticed by run next-run"
    )
    for state in ("RUNNING", "PENDING"):
        assert run_row(warehouse, runs[state])["status"] == "running"
    assert run_row(warehouse, "not-a-flow-run")["status"] == "running"


@pytest.mark.slow
def test_an_unreachable_prefect_api_never_fails_the_start(
    prefect_harness: None, warehouse_path: Path
) -> None:
    import socket
    import time

    from prefect.settings import PREFECT_API_URL, temporary_settings

    warehouse = Warehouse(warehouse_path)
    run_id = str(uuid.uuid4())
    insert_running(warehouse, run_id, None)
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    started = time.monotonic()
    with temporary_settings({PREFECT_API_URL: f"http://127.0.0.1:{port}/api"}):
        assert warehouse.start_run("next-run", "push-leads") == []
    assert time.monotonic() - started < 30
    assert run_row(warehouse, run_id)["status"] == "running"
    assert run_row(warehouse, "next-run")["status"] == "running"
