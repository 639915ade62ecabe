"""Runs whose process is gone do not stay `running` in ops.sync_runs: they become `crashed`.

A run records itself `running` when it starts and its outcome when it ends (`Warehouse.start_run` /
`finish_run`). A run whose process is killed (`kill -9`, out of memory, a worker's machine stopping) never
records an outcome, and its row said `running` for ever. So each run also records who runs it
(`ops.sync_runs.runner`, migration 0016), and every `Warehouse.start_run` first looks at the other `running`
rows: those whose process has certainly ended become `crashed` (Prefect's word for a run whose process died
without reporting), with `finished_at` the time this was noticed and a one-line `message`; counts stay as
they were. A run marked so by mistake (it was alive after all) still records its outcome when it ends:
`finish_run` overwrites the row.

"Certainly ended" is decided two ways, and a row that neither decides stays `running`:

- here: a row written on this machine since its last boot and in this process's pid namespace (the same
  boot id and pid namespace in its runner) is ended when its pid is gone, is a zombie, or belongs to a
  process with another start time (the pid was reused). A process that exists but whose start time cannot
  be read (another user's, under `hidepid`) counts as alive. The host name alone decides nothing: two
  containers with one host name (`--network host`) have pid namespaces of their own.
- by Prefect: a row from elsewhere (another machine or container, a reboot, or a row written before 0016)
  whose run id is a flow run on the Prefect API this process is configured with (PREFECT_API_URL set: deployed
  runs) in a final state (Completed, Failed, Cancelled, Crashed). Our flows record their outcome before
  Prefect's final state, so a final flow run with a `running` row ended without recording one. One request
  for all such rows, at most a few seconds and never retried; any error skips the check (logged at debug).
"""

from __future__ import annotations

import logging
import os
import re
import socket
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb

__all__ = [
    "RunningRun",
    "Runner",
    "crash_ended_here",
    "ended_here",
    "ended_per_prefect",
    "mark_crashed",
    "parse_stat",
    "report_crashed",
    "running_runs",
]

log = logging.getLogger(__name__)

# The Prefect check: one request, at most this many rows (the newest), and this long to answer. A row it
# cannot decide is asked again at the next run's start: the bound keeps that cheap however many pile up.
PREFECT_MAX_RUNS = 100
PREFECT_TIMEOUT_SECONDS = 5.0
PREFECT_FINAL_STATES = ("COMPLETED", "FAILED", "CANCELLED", "CRASHED")  # Prefect's StateType names

_RUNNER = re.compile(
    r"^(?P<pid>[1-9]\d*)@(?P<host>\S*)"
    r"(?: start=(?P<start>\d+) boot=(?P<boot>[0-9a-f-]+) pidns=(?P<pidns>\d+))?$"
)


@dataclass(frozen=True)
class Runner:
    """The process running a run, as `ops.sync_runs.runner` records it.

    Attributes:
        pid: its process id.
        host: the machine's host name (for people: it decides nothing).
        start: the process's start time, in clock ticks after boot (/proc/<pid>/stat field 22); None
            where /proc does not tell (not Linux), and then also `boot` and `pidns`.
        boot: the machine's boot id (/proc/sys/kernel/random/boot_id).
        pidns: the inode of the process's pid namespace (/proc/<pid>/ns/pid).
    """

    pid: int
    host: str
    start: int | None = None
    boot: str | None = None
    pidns: int | None = None

    @classmethod
    def me(cls) -> Runner:
        """This process."""
        pid, host = os.getpid(), socket.gethostname()
        try:
            _, start = parse_stat(_read(f"/proc/{pid}/stat"))
            boot = _read("/proc/sys/kernel/random/boot_id").strip()
            pidns = _namespace(os.readlink("/proc/self/ns/pid"))
        except (OSError, ValueError):
            return cls(pid, host)
        return cls(pid, host, start, boot, pidns)

    @property
    def text(self) -> str:
        """`4242@worker-2 start=912345 boot=048c... pidns=4026531836`, or `4242@worker-2` (pure)."""
        if self.start is None or self.boot is None or self.pidns is None:
            return f"{self.pid}@{self.host}"
        return f"{self.pid}@{self.host} start={self.start} boot={self.boot} pidns={self.pidns}"

    @classmethod
    def parse(cls, text: str | None) -> Runner | None:
        """The runner `text` records, or None for NULL or text in no form `text` writes (pure)."""
        match = _RUNNER.match(text or "")
        if match is None:
            return None
        start = match["start"]
        return cls(
            int(match["pid"]),
            match["host"],
            int(start) if start else None,
            match["boot"],
            int(match["pidns"]) if match["pidns"] else None,
        )

    def shares_pids_with(self, other: Runner) -> bool:
        """True when a pid means the same process for both: same boot and pid namespace (pure)."""
        return (
            self.boot is not None
            and self.pidns is not None
            and (self.boot, self.pidns)
            == (
                other.boot,
                other.pidns,
            )
        )


def parse_stat(text: str) -> tuple[str, int]:
    """(state, start time in clock ticks after boot) from a /proc/<pid>/stat line (pure).

    The command name (field 2) is in parentheses and may hold spaces and parentheses itself, so the fields
    are counted from the last `)`: state is field 3, the start time field 22.

    Raises:
        ValueError: not such a line.
    """
    fields = text[text.rindex(")") + 1 :].split()
    return fields[0], int(fields[19])


def ended_here(recorded: Runner, here: Runner) -> bool | None:
    """Whether the process `recorded` has ended, as this machine can tell: True (certainly), False (it runs),
    None (it cannot tell: another machine, boot or pid namespace, or a runner without its start time)."""
    if recorded.start is None or not here.shares_pids_with(recorded):
        return None
    try:
        os.kill(recorded.pid, 0)  # signal 0: only asks whether the pid exists
    except ProcessLookupError:
        return True
    except PermissionError:
        pass  # it exists, and belongs to another user
    try:
        state, start = parse_stat(_read(f"/proc/{recorded.pid}/stat"))
    except (OSError, ValueError):
        return None  # hidden from us (hidepid), or it ended just now: the next run's start will tell
    # Z: exited, not yet reaped by its parent; X: being removed.
    return start != recorded.start or state in ("Z", "X")


@dataclass(frozen=True)
class RunningRun:
    """A row of ops.sync_runs whose status is `running`."""

    run_id: str
    flow: str
    started_at: datetime
    runner: str | None


def running_runs(con: duckdb.DuckDBPyConnection, *, other_than: str) -> list[RunningRun]:
    """The `running` rows of ops.sync_runs but `other_than`'s, newest first."""
    rows = con.execute(
        "SELECT run_id, flow, started_at, runner FROM ops.sync_runs WHERE status = 'running' AND run_id <> ?"
        " ORDER BY started_at DESC",
        [other_than],
    ).fetchall()
    return [RunningRun(*row) for row in rows]


def crash_ended_here(
    con: duckdb.DuckDBPyConnection, run_id: str, here: Runner
) -> tuple[list[RunningRun], list[RunningRun]]:
    """Mark `crashed` every other `running` row whose process this machine can tell has ended, inside the
    caller's transaction (the start of run `run_id`, in process `here`).

    Returns:
        (the rows marked, the rows this machine cannot decide: for `ended_per_prefect`).
    """
    ended: list[tuple[RunningRun, str]] = []
    undecided: list[RunningRun] = []
    for run in running_runs(con, other_than=run_id):
        recorded = Runner.parse(run.runner)
        verdict = ended_here(recorded, here) if recorded is not None else None
        if verdict is None:
            undecided.append(run)
        elif verdict:
            assert recorded is not None
            ended.append((run, f"killed: pid {recorded.pid} on {recorded.host} is gone"))
    return mark_crashed(con, ended, noticed_by=run_id), undecided


def ended_per_prefect(runs: Sequence[RunningRun]) -> list[tuple[RunningRun, str]]:
    """The rows of `runs` whose run id is a flow run in a final state on the configured Prefect API, each with
    why (`killed, or its machine stopped: its Prefect flow run is Crashed`). Empty when PREFECT_API_URL is not set (Prefect's
    temporary API knows only this machine's runs, which `ended_here` decides); never raises."""
    by_id: dict[uuid.UUID, RunningRun] = {}
    for run in runs[:PREFECT_MAX_RUNS]:
        try:
            by_id[uuid.UUID(run.run_id)] = run
        except ValueError:
            continue  # not a flow run id
    if not by_id:
        return []
    try:
        from prefect.client.orchestration import get_client
        from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
        from prefect.settings import PREFECT_API_URL, PREFECT_CLIENT_MAX_RETRIES, temporary_settings

        if not PREFECT_API_URL.value():
            return []
        # Prefect's client retries a timeout five times with growing waits: here one try, then skip.
        with (
            temporary_settings({PREFECT_CLIENT_MAX_RETRIES: 0}),
            get_client(sync_client=True, httpx_settings={"timeout": PREFECT_TIMEOUT_SECONDS}) as client,
        ):
            flow_runs = client.read_flow_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=list(by_id))), limit=len(by_id)
            )
    except Exception:  # noqa: BLE001  a check that cannot be made must never fail the run that makes it
        log.debug(
            "Could not ask Prefect about %d running run(s); left as they are", len(by_id), exc_info=True
        )
        return []
    return [
        (by_id[fr.id], f"killed, or its machine stopped: its Prefect flow run is {fr.state.name}")
        for fr in flow_runs
        if fr.id in by_id and fr.state is not None and fr.state.type.value in PREFECT_FINAL_STATES
    ]


def mark_crashed(
    con: duckdb.DuckDBPyConnection, ended: Sequence[tuple[RunningRun, str]], *, noticed_by: str
) -> list[RunningRun]:
    """Mark the rows of `ended` ((row, why: a clause such as `killed: pid 4242 on w-2 is gone`))
    `crashed`, inside the caller's transaction: `finished_at` now, a one-line `message`, counts unchanged.

    A row is rewritten only while it is the one read: still `running`, with the same `started_at` (a run
    started again under its id, such as a flow run retried in Prefect, is not touched).

    Returns:
        The rows rewritten, for the caller to report once its transaction has committed (`report_crashed`).
    """
    if not ended:
        return []
    now = datetime.now(UTC)
    values: list[object] = []
    for run, why in ended:
        message = f"the run's process ended without recording an outcome ({why}); noticed by run {noticed_by}"
        values += [run.run_id, run.started_at, message[:500]]
    # Numbered parameters: DuckDB binds an UPDATE's FROM clause before its SET.
    rows = ", ".join(f"(${i + 2}, ${i + 3}, ${i + 4})" for i in range(0, 3 * len(ended), 3))
    con.execute(
        "UPDATE ops.sync_runs AS t SET status = 'crashed', finished_at = $1, message = v.message"
        f" FROM (VALUES {rows}) AS v(run_id, started_at, message)"
        " WHERE t.run_id = v.run_id AND t.started_at = CAST(v.started_at AS TIMESTAMPTZ)"
        " AND t.status = 'running'",
        [now, *values],
    )
    # Which were rewritten (DuckLake has no UPDATE ... RETURNING): those crashed at `now`.
    ids = [run.run_id for run, _ in ended]
    found = con.execute(
        f"SELECT run_id FROM ops.sync_runs WHERE status = 'crashed' AND finished_at = ?"
        f" AND run_id IN ({', '.join('?' for _ in ids)})",
        [now, *ids],
    ).fetchall()
    marked = {run_id for (run_id,) in found}
    return [run for run, _ in ended if run.run_id in marked]


def report_crashed(runs: Sequence[RunningRun]) -> None:
    """Log one warning line per run marked `crashed` (the new run's log, the CLI's output)."""
    for run in runs:
        log.warning(
            "Run %s (%s, started %s UTC) ended without recording an outcome: ops.sync_runs now says crashed.",
            run.run_id,
            run.flow,
            f"{run.started_at.astimezone(UTC):%Y-%m-%d %H:%M:%S}",
        )


def _read(path: str) -> str:
    with open(path, encoding="utf-8", errors="replace") as file:
        return file.read()


def _namespace(link: str) -> int:
    """4026531836 from `pid:[4026531836]` (pure). Raises ValueError for another form."""
    match = re.fullmatch(r"pid:\[(\d+)\]", link)
    if match is None:
        raise ValueError(link)
    return int(match[1])
