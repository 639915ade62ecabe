"""The push engine: stream rows from `ops.<table>`, send them to one campaign exactly once, record outcomes.

Exactly once, with the ledger as an intent log (warehouse/ledger.py):

1. Reconcile (tasks/push_reconcile.py): rows left open by an earlier run (a crash, a timeout) are looked up
   in the campaign by email. Found: `done` with the lead id. Not found: forgotten, so they are sent again as
   new. Nothing is resent before this.
2. A pass (tasks/push_pipeline.py) plans slices of rows into requests (tasks/push_slices.py), sends them
   (tasks/push_send.py) and records intents and outcomes (tasks/push_record.py): a request leaves only once
   the `pending` intents of its rows are committed. No DuckDB connection is open during HTTP calls.
3. Requests whose outcome is unknown are reconciled and only the missing rows are sent again, for up to
   MAX_PASSES passes; rows still unknown are reported `unknown` and reconciled by the next run.

Requests in flight follow the rate budget and the observed latency (push_plan.in_flight_target); the
client's limiter paces request starts, so the engine itself never sleeps to throttle.
"""

from __future__ import annotations

import gc
import math
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import polars as pl

from instantly_client import InstantlyClient, InstantlyError
from ops_core.errors import OpsError
from ops_core.malloc import tune_malloc_for_push
from tasks.push_lookup import Lookups
from tasks.push_models import BatchReport, CampaignReport, PushListener, PushTarget
from tasks.push_pipeline import PushPass
from tasks.push_plan import in_flight_target
from tasks.push_reconcile import Found, Reconciled, reconcile, report_unknown
from tasks.push_record import push_connection
from tasks.push_send import Sender
from warehouse import ledger
from warehouse.db import Warehouse

__all__ = ["BatchReport", "CampaignPush", "CampaignReport", "PushListener", "PushTarget"]

# Before any response: size the first requests for this latency (the limiter paces their starts anyway).
FIRST_LATENCY_GUESS = 0.5
MAX_PASSES = 4  # send, then up to 3 rounds of reconcile-and-resend for unknown outcomes


class CampaignPush:
    """Pushes one table to one campaign. Not thread-safe itself; its workers only do HTTP.

    Args:
        client: the push's client (its limiter paces every request).
        warehouse: the warehouse holding `ops.<table>` and the ledger.
        target: what to push where.
        listeners: progress listeners (the CLI's bar, the flow's progress artifact).
    """

    def __init__(
        self,
        client: InstantlyClient,
        warehouse: Warehouse,
        target: PushTarget,
        listeners: Sequence[PushListener] = (),
    ) -> None:
        self.client = client
        self.warehouse = warehouse
        self.target = target
        self.scope = target.scope
        self.listeners = list(listeners)
        self.report = CampaignReport(target.scope.campaign_id, target.campaign_name)
        self.lookups = Lookups(client, target.scope.campaign_id, self._target_in_flight)
        self.sender = Sender(client, target, self.lookups, self.report)
        self._seq = 0
        self._lock = threading.Lock()

    def run(self) -> CampaignReport:
        """Reconcile, send every row that needs it, reconcile unknown outcomes; return the counts.

        Raises:
            OpsError: a request the API refused outright (a bad key, no credits, a vanished campaign ...).
            InstantlyError: a lookup failed while reconciling (nothing was resent).
        """
        tune_malloc_for_push()  # the CLI did it at start; a flow run (a Prefect worker's process) does it here
        with _frozen_heap():
            return self._run()

    def _run(self) -> CampaignReport:
        started = time.monotonic()
        before = self.client.stats.by_endpoint
        found = self._reconcile(record=False).found
        self.report.created_earlier = len(found)
        only: set[str] | None = None
        nothing_stale = False  # nothing for ledger.compact to delete (PassOutcome.settled)
        for attempt in range(1, MAX_PASSES + 1):
            unknown, nothing_stale = self._pass(found, only)
            if not unknown:
                break
            nothing_stale = False
            last = attempt == MAX_PASSES
            # On the last pass, rows not found stay `unknown` (reported below, reconciled by the next run)
            # instead of being forgotten for a resend that will not happen in this run.
            settled = self._reconcile(record=True, resend_missing=not last)
            found = settled.found
            if last:
                self.report.unresolved = report_unknown(self.warehouse, self.scope)
                if self.report.unresolved:
                    self.report.counts["unknown"] += self.report.unresolved
            if not settled.resend:
                break
            only = settled.resend
        with push_connection(self.warehouse) as con:
            # Skipped after a first push settled as written (a third of a second at 1,000,000 leads, which
            # the push would wait for), unless another run wrote to the same ledger meanwhile.
            if not nothing_stale or ledger.written_by_others(con, self.scope, 0):
                for retry in self.warehouse.retrying():  # a DuckLake conflict with another push: again
                    with retry:
                        ledger.compact(con, self.scope)
            for retry in self.warehouse.retrying():
                with retry:
                    ledger.drop_repeated_results(con, self.scope)
        self.report.seconds = time.monotonic() - started
        after = self.client.stats.by_endpoint
        self.report.requests_by_endpoint = {
            k: n - before.get(k, 0) for k, n in after.items() if n > before.get(k, 0)
        }
        return self.report

    def _reconcile(self, *, record: bool, resend_missing: bool = True) -> Reconciled:
        settled = reconcile(
            self.warehouse, self.scope, self.lookups, record=record, resend_missing=resend_missing
        )
        self.report.reconciled += settled.looked_at
        self.report.counts.update(settled.counts)
        return settled

    def _pass(self, found: Found, only: set[str] | None) -> tuple[list[str], bool]:
        """Plan and send every row (or only the given row keys).

        Returns:
            The row keys left unknown, and whether the pass left the ledger settled (PassOutcome.settled).
        """
        one = PushPass(
            self.warehouse,
            self.target,
            found=found,
            only=only,
            run_job=self.sender.run_job,
            in_flight=self._target_in_flight,
            rate=min(self.client.rate_per_second, (self.client.rate_per_minute or math.inf) / 60),
            batch_id=self._batch_id,
            listeners=self.listeners,
            on_results=self._count,
        )
        outcome = one.run()
        if outcome.fatal is not None:
            raise _ops_error(outcome.fatal, self.target.campaign_name)
        return outcome.unknown, outcome.settled

    def _count(self, results: pl.DataFrame) -> None:
        counts = results["outcome"].value_counts()
        already = results.filter((pl.col("outcome") == "duplicate") & pl.col("lead_id").is_not_null()).height
        with self._lock:
            for outcome, n in counts.iter_rows():
                self.report.counts[outcome] += n
            self.report.already_in_campaign += already

    def _target_in_flight(self) -> int:
        # Sized on the server's own latency (the lowest of recent responses), not the mean: when the server
        # is slower than the budget, requests queue there, the mean grows, and sizing on it would add
        # still more requests to the queue.
        stats = self.client.stats
        latency = stats.latency_low if stats.latency_low is not None else stats.latency_ewma
        return in_flight_target(
            self.client.rate_per_second,
            self.client.rate_per_minute,
            FIRST_LATENCY_GUESS if latency is None else latency,
            headroom=1.5,
            maximum=self.target.max_in_flight,
        )

    def _batch_id(self) -> str:
        self._seq += 1
        return f"{self.scope.run_id[:8]}-{self.scope.campaign_id[:8]}-{self._seq:05d}"


_frozen_lock = threading.Lock()
_frozen_pushes = 0


@contextmanager
def _frozen_heap() -> Iterator[None]:
    """Python's cyclic GC leaves the objects that existed before the push alone while it runs (gc.freeze).

    A push allocates many short-lived objects (a parsed answer holds 1,000 created leads), which triggers
    full collections; each walked every object of the process (Prefect's alone are over 100,000), about 3 us
    a lead. Unfrozen when the last push of the process ends, so nothing is kept from the collector for good.
    """
    global _frozen_pushes
    with _frozen_lock:
        if _frozen_pushes == 0:
            gc.freeze()
        _frozen_pushes += 1
    try:
        yield
    finally:
        with _frozen_lock:
            _frozen_pushes -= 1
            if _frozen_pushes == 0:
                gc.unfreeze()


def _ops_error(exc: BaseException, campaign: str) -> OpsError:
    hint = getattr(exc, "hint", None) or "fix the problem and run the push again: sent rows are not resent"
    what = exc.summary if isinstance(exc, InstantlyError) else str(exc)  # its hint once, below
    return OpsError(f"Push to campaign {campaign!r} stopped: {what}", hint=hint)
