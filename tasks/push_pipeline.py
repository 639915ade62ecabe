"""One pass of the push as a pipeline: a planner thread plans, a bookkeeper thread records, the sender sends.

    planner thread              bookkeeper thread                     sender (the calling thread) + HTTP workers
    --------------              -----------------                     -----------------------------------------
    read a slice (the           one write cycle, one transaction:     takes jobs whose intents are durable, keeps
      Recorder's connection,      outcomes of finished requests (a    `in_flight_target` requests in flight (the
      between two cycles)           row group of them at a time),     client's limiter paces their starts), hands
    map, validate, hash,          `pending` intents of the next jobs, each finished request back  ----+
      compare (lead_frame.py,     results of rows that need no                                          |
      push_plan.decide_frame)       request                                                             |
    -> jobs + local results     publish those jobs to the sender <--------------------------------------+
       (PLAN_AHEAD slices ready)

So no DuckDB round trip sits between two sends: the bookkeeper keeps a backlog of jobs whose intents are
already committed (a few times the requests in flight), and records finished requests in large batched
statements while the next ones are on the wire. Planning (polars, which runs without the GIL) overlaps the
write cycles: on one thread both took a 1,000,000-lead push at 100 req/s 10.8 s, so the backlog ran dry
during the longest cycles (bench/README.md). A pending intent is durable before its request leaves (a job is
published only after the transaction holding its intent commits). Only the Recorder touches the warehouse
(tasks/push_record.py, one connection, used by one thread at a time), closing its connection when another
one queues for the file.
"""

from __future__ import annotations

import contextlib
import math
import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from tasks.push_models import Job, JobResult, PushListener, PushTarget
from tasks.push_reconcile import Found
from tasks.push_record import Recorder
from tasks.push_slices import Slice, plan_slices
from warehouse.db import Warehouse

CYCLE_SECONDS = 1.0  # outcomes are recorded about once a second (each cycle costs a checkpoint)
DRAIN_CYCLE_SECONDS = 0.25  # ... and four times a second once the last job is out (see _cycles)
AHEAD_SECONDS = 2.0  # jobs with committed intents kept ready: this many seconds of the budget (3 s while a
# cycle that checkpointed took 1-1.5 s; since outcomes go in row groups, closing costs about 0.2 s)
PLAN_AHEAD = 1  # planned slices waiting for the bookkeeper (each about 50 jobs; their rows are in memory)
AHEAD_MAX = 100  # ... but no more jobs than this (their rows are held in memory: about 40 MB; 160 took the
# peak RSS of a 1,000,000-lead push at 100 req/s from 801-808 MB to 910-928 MB)


@dataclass
class PassOutcome:
    """What one pass left behind."""

    unknown: list[str] = field(default_factory=list)
    fatal: BaseException | None = None
    # The first push of the scope, all of it settled as written: each row has one entry, written by this
    # pass, and no intent left (ledger.write with settle). So ledger.compact would find nothing to delete.
    settled: bool = False


class PushPass:
    """Plans and sends every row of a table (or only some row keys) once; used by CampaignPush.

    Args:
        warehouse: the warehouse file (short connections, bookkeeper thread only).
        target: what to push where.
        found: rows an earlier attempt turned out to have created (tasks/push_reconcile.py).
        only: row keys to resend (a retry pass), or None for the whole table.
        run_job: sends one job (HTTP only, on a worker thread) and says what happened to its rows.
        in_flight: how many requests to keep in flight right now.
        rate: the request budget (requests per second), to size the backlog of ready jobs.
        batch_id: the next batch id.
        listeners: progress listeners (called from the bookkeeper thread).
        on_results: called with each batch of recorded results (outcome counts).
    """

    def __init__(
        self,
        warehouse: Warehouse,
        target: PushTarget,
        *,
        found: Found,
        only: set[str] | None,
        run_job: Callable[[Job], JobResult],
        in_flight: Callable[[], int],
        rate: float,
        batch_id: Callable[[], str],
        listeners: Sequence[PushListener],
        on_results: Callable[[pl.DataFrame], None],
    ) -> None:
        self.target = target
        self.found = found
        self.only = only
        self.run_job = run_job
        self.in_flight = in_flight
        self.rate = rate
        self.batch_id = batch_id
        self.listeners = list(listeners)
        self.recorder = Recorder(warehouse, target.scope, on_results)
        self._events: queue.Queue[tuple[str, Any]] = queue.Queue()  # to the sender
        self._finished: list[tuple[Job, JobResult]] = []
        self._wake = threading.Condition()
        self._stop = threading.Event()
        self._published = 0
        self._submitted = 0
        self._done_rows = 0
        self._sent_end = False
        self._planned: queue.Queue[Slice | BaseException | None] = queue.Queue(maxsize=PLAN_AHEAD)

    # -- the sender (calling thread) --------------------------------------------------------------------

    def run(self) -> PassOutcome:
        """Run the pass to the end (or to the first error that stops the push)."""
        outcome = PassOutcome()
        bookkeeper = threading.Thread(target=self._bookkeep, name="push-bookkeeper", daemon=True)
        bookkeeper.start()
        backlog: list[Job] = []
        in_flight: dict[Future[JobResult], Job] = {}
        ended = False
        try:
            with ThreadPoolExecutor(max_workers=self.target.max_in_flight, thread_name_prefix="push") as pool:
                while True:
                    kind, item = self._events.get()
                    batch = [(kind, item)]
                    while not self._events.empty():
                        batch.append(self._events.get_nowait())
                    for kind, item in batch:
                        if kind == "job":
                            backlog.append(item)
                        elif kind == "end":
                            ended = True
                        elif kind == "error":
                            outcome.fatal = outcome.fatal or item
                        elif kind == "done":
                            job = in_flight.pop(item)
                            result = item.result()
                            outcome.unknown += result.unknown
                            if result.error is not None and outcome.fatal is None:
                                outcome.fatal = result.error
                            self._hand_over(job, result)
                    if outcome.fatal is None:
                        room = self.in_flight() - len(in_flight)
                        while room > 0 and backlog:
                            job = backlog.pop(0)
                            future = pool.submit(self.run_job, job)
                            in_flight[future] = job
                            future.add_done_callback(lambda f: self._events.put(("done", f)))
                            self._submitted += 1
                            room -= 1
                        with self._wake:
                            self._wake.notify()
                    if not in_flight and (outcome.fatal is not None or (ended and not backlog)):
                        break
        finally:
            # Also after Ctrl-C (the pool has waited for the requests it had started): the answers that came
            # back are recorded, and jobs never sent are forgotten, so the next run has nothing to look up.
            self._settle(in_flight, backlog, outcome)
            self._stop.set()
            with self._wake:
                self._wake.notify()
            bookkeeper.join()
            # Jobs whose intents were written but that were never sent: nothing reached Instantly, forget the
            # adds. An update's intent stays open with its lead id (forgotten, the row would read as never
            # pushed and be added again as a `duplicate`): the next run's reconcile sends the PATCH again.
            self._settle(in_flight, backlog, outcome)
            self.recorder.forget([key for job in backlog if job.kind == "add" for key in job.row_keys])
        outcome.settled = (
            self.only is None
            and self.recorder.first_push
            and not self.recorder.forgot
            and not outcome.unknown
            and outcome.fatal is None
            and self.recorder.settles
        )
        return outcome

    def _settle(
        self, in_flight: dict[Future[JobResult], Job], backlog: list[Job], outcome: PassOutcome
    ) -> None:
        """Take the events still queued: answers go to the bookkeeper, published jobs to `backlog`."""
        while not self._events.empty():
            kind, item = self._events.get_nowait()
            if kind == "job":
                backlog.append(item)
            elif kind == "error":
                outcome.fatal = outcome.fatal or item
            elif kind == "done" and item in in_flight:
                job, result = in_flight.pop(item), item.result()
                outcome.unknown += result.unknown
                self._hand_over(job, result)

    def _hand_over(self, job: Job, result: JobResult) -> None:
        with self._wake:
            self._finished.append((job, result))
            self._wake.notify()

    # -- the bookkeeper thread --------------------------------------------------------------------------

    def _bookkeep(self) -> None:
        planner = threading.Thread(target=self._plan_ahead, name="push-planner", daemon=True)
        planner.start()
        try:
            self._cycles()
        except BaseException as exc:  # reported to the sender, which stops the pass and raises it
            self._stop.set()
            planner.join()
            self._events.put(("error", exc))
            # The first error is the one reported; outcomes the warehouse does not take stay `pending`.
            with contextlib.suppress(Exception):
                self.recorder.close()
        else:
            self._stop.set()  # the pass is over: a planner still reading ahead stops at its next slice
            planner.join()
            self.recorder.close()

    def _cycles(self) -> None:
        planned: list[Job] = []
        local: list[pl.DataFrame] = []
        exhausted = False
        last = 0.0
        while True:
            backlog = self._published - self._submitted
            ahead = min(AHEAD_MAX, max(8, 3 * self.in_flight(), math.ceil(self.rate * AHEAD_SECONDS)))
            with self._wake:
                while True:
                    stopping = self._stop.is_set()
                    open_plan = not stopping and not exhausted
                    want_jobs = open_plan and backlog < ahead
                    # Top up when half the backlog is gone, at once when the sender is about to run dry.
                    refill = open_plan and backlog <= ahead // 2
                    urgent = open_plan and backlog < max(2, self.in_flight())
                    # Once every job is out, outcomes are written as they come (DRAIN_CYCLE_SECONDS apart, whole
                    # row groups or not): the write after the last answer, which the push waits for, stays small.
                    draining = exhausted and not planned
                    due = time.monotonic() - last >= (DRAIN_CYCLE_SECONDS if draining else CYCLE_SECONDS)
                    if stopping or urgent or refill or (due and self._finished):
                        break
                    self._wake.wait(timeout=(DRAIN_CYCLE_SECONDS if draining else CYCLE_SECONDS) / 3)
                    backlog = self._published - self._submitted
                finished, self._finished = self._finished, []
            new: list[Job] = []
            count = ahead - backlog
            if urgent:  # the sender is (about to be) idle: a small group now, the rest next cycle
                count = min(count, 4 if self._published == 0 else max(4, self.in_flight()))
            if want_jobs:
                while len(planned) < count and not exhausted:
                    if urgent and planned and self._planned.empty():
                        break  # the sender is waiting: send what is planned, not wait for the next slice
                    piece = self._next_slice()
                    if piece is None:
                        exhausted = True
                        break
                    local.append(piece.local)
                    planned += piece.jobs
                    if sum(frame.height for frame in local) >= self.target.slice_rows:
                        break  # rows that need no request (a no-change re-run): write them, memory stays flat
                new, planned = planned[: max(0, count)], planned[max(0, count) :]
            if new and finished and not any(result.forget for _, result in finished):
                # The intents first, in a transaction of their own, and their jobs to the sender: the
                # outcomes' row groups (up to a second of CPU) are written while those are on the wire.
                self.recorder.write([], [], new)
                self._publish(new)
                new = []
            self.recorder.ending = draining
            self.recorder.write(finished, local, new, flush=draining)
            self._progress()
            local = []
            last = time.monotonic()
            self._publish(new)
            if exhausted and not planned and not self._sent_end:
                self._events.put(("end", None))  # after the last jobs: the sender sees those first
                self._sent_end = True
            if stopping:
                with self._wake:
                    finished, self._finished = self._finished, []
                self.recorder.write(finished, [], [], flush=True)
                self._progress()
                return

    def _publish(self, jobs: list[Job]) -> None:
        """Hand jobs whose intents are committed to the sender."""
        for job in jobs:
            self._published += 1
            self._events.put(("job", job))

    def _progress(self) -> None:
        """Tell the listeners how many rows have an outcome (known as soon as the request is answered; it is
        written with a whole row group of them, tasks/push_record.py)."""
        if self.recorder.known != self._done_rows:
            self._done_rows = self.recorder.known
            for listener in self.listeners:
                listener.on_progress(self.target.campaign_name, self._done_rows, self.target.row_count)

    # -- planning (planner thread) ----------------------------------------------------------------------

    def _next_slice(self) -> Slice | None:
        """The next planned slice (waits for the planner), None after the last; raises what planning raised."""
        while True:
            try:
                piece = self._planned.get(timeout=0.1)
            except queue.Empty:
                if self._stop.is_set():  # the planner stops too, maybe without a last word
                    return None
                continue
            if isinstance(piece, BaseException):
                raise piece
            return piece

    def _plan_ahead(self) -> None:
        """Plan slices in order into `_planned`, at most PLAN_AHEAD ahead of the bookkeeper; stops with the pass."""
        plan = plan_slices(
            self.target, self._read(), found=self.found, retry=self.only is not None, batch_id=self.batch_id
        )
        try:
            for piece in plan:
                if not self._offer(piece):
                    return
            self._offer(None)
        except BaseException as exc:  # the bookkeeper raises it (and so reports it to the sender)
            self._offer(exc)
        finally:
            plan.close()

    def _offer(self, item: Slice | BaseException | None) -> bool:
        """Put `item` in `_planned` once there is room; False when the pass stopped first."""
        while not self._stop.is_set():
            try:
                self._planned.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _read(self) -> Iterator[pl.DataFrame]:
        """Slices of the table in source order, or (retry pass) just the rows with the given keys."""
        columns = self.target.mapping.columns
        step = self.target.slice_rows
        if self.only is None:
            # Small slices first, so the first requests leave soon; then full slices.
            start, size = 0, min(step, 4 * self.target.batch_size)
            while start < max(self.target.row_count, 1):
                yield self.recorder.read_slice(columns, start, start + size)
                start, size = start + size, min(step, 2 * size)
            return
        keys = sorted(self.only)
        for start in range(0, len(keys), step):
            yield self.recorder.read_keys(columns, keys[start : start + step])
