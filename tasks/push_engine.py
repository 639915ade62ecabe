"""The push engine: stream rows from `ops.<table>`, send them to one campaign exactly once, record outcomes.

Exactly once, with the ledger as an intent log (warehouse/ledger.py):

1. Reconcile: rows left `pending`/`unknown` by an earlier run (a crash, a timeout) are looked up in the
   campaign by email (`contacts` filter of /leads/list). Found: `done` with the lead id. Not found: forgotten,
   so they are sent again as new. Nothing is resent before this.
2. Plan and send, in a stream: a slice of rows is read (short DuckDB connection), validated, compared with
   the ledger; new rows are grouped into bulk adds of at most 1,000, changed rows become PATCHes. Each write
   cycle records the outcomes of finished requests and the `pending` intents of the next ones in one short
   connection, then the next requests start. No DuckDB connection is open during HTTP calls.
3. Requests whose outcome is unknown are reconciled and only the missing rows are sent again.

Requests in flight follow the rate budget and the observed latency (push_plan.in_flight_target); the
client's limiter paces request starts, so the engine itself never sleeps to throttle.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any

from instantly_client import InstantlyClient
from instantly_client.errors import (
    AuthenticationError,
    ConnectionFailedError,
    InstantlyError,
    NotFoundError,
    OutcomeUnknownError,
    PaymentRequiredError,
    PermissionDeniedError,
    RateLimitError,
    ValidationError,
)
from ops_instantly.errors import OpsError
from tasks.mapping import ROW_PROBLEM, build_lead, patch_body, payload_hash
from tasks.push_models import (
    BatchReport,
    CampaignReport,
    Job,
    JobResult,
    Planned,
    PushListener,
    PushTarget,
)
from tasks.push_plan import (
    AddCounts,
    attribute_leftover,
    chunked,
    created_by_index,
    decide,
    in_flight_target,
    needs_campaign_lookup,
    skip_flags,
)
from tasks.validate import RowValidator
from warehouse import ledger
from warehouse.db import Warehouse
from warehouse.ledger import LedgerRow, ResultRow

__all__ = ["BatchReport", "CampaignPush", "CampaignReport", "PushListener", "PushTarget"]

LOOKUP_EMAILS = 100  # emails per /leads/list contacts lookup (SPEC /leads/list limit max 100 per page)
MAX_PASSES = 4  # send, then up to 3 rounds of reconcile-and-resend for unknown outcomes
# Requests refused outright: nothing was written, so their rows can be forgotten and sent again later.
_NOT_APPLIED = (
    AuthenticationError,
    PaymentRequiredError,
    PermissionDeniedError,
    NotFoundError,
    RateLimitError,
    ConnectionFailedError,
)


_FLUSH = object()  # yielded by the planner after each slice, so local results are written as we go


class CampaignPush:
    """Pushes one table to one campaign. Not thread-safe itself; its workers only do HTTP."""

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
        self._seq = 0
        self._done_rows = 0
        self._write_ewma: float | None = None
        self._idle_ewma: float | None = None  # finished request -> its slot refilled (our own overhead)
        self._lock = threading.Lock()

    # -- public -----------------------------------------------------------------------------------------

    def run(self) -> CampaignReport:
        """Reconcile, send every row that needs it, reconcile unknown outcomes; return the counts."""
        started = time.monotonic()
        overrides, _ = self.reconcile(record=False)
        only: set[str] | None = None
        for attempt in range(1, MAX_PASSES + 1):
            if not self._pass(overrides, only):
                break
            last = attempt == MAX_PASSES
            # On the last pass, rows not found stay `unknown` (reported below, reconciled by the next run)
            # instead of being forgotten for a resend that will not happen in this run.
            overrides, resend = self.reconcile(record=True, resend_missing=not last)
            if last:
                self._give_up_unknown()
            if not resend:
                break
            only = resend
        self.report.seconds = time.monotonic() - started
        return self.report

    def reconcile(
        self, *, record: bool, resend_missing: bool = True
    ) -> tuple[dict[str, tuple[str, str, str]], set[str]]:
        """Resolve rows whose last request may have reached Instantly.

        Returns (row key -> (outcome, lead id, reason) for rows found, row keys that must be sent again).

        Args:
            record: write a `created` result for rows found now (during a run); at start they are
                reported with the row instead (the overrides).
            resend_missing: drop rows not found from the ledger so they are sent again; when False they
                stay `unknown` (nothing is resent in this run).
        """
        with self.warehouse.connect() as con:
            open_rows = ledger.open_rows(con, self.scope)
        if not open_rows:
            return {}, set()
        adds = [r for r in open_rows if not r.lead_id]
        found = self._lookup_in_campaign([r.email for r in adds if r.email])
        upserts: list[LedgerRow] = []
        forget: list[str] = []
        results: list[ResultRow] = []
        overrides: dict[str, tuple[str, str, str]] = {}
        for row in open_rows:
            if row.lead_id:
                if not resend_missing:
                    continue  # stays unknown: reported now, re-PATCHed by the next run
                # An update whose outcome is unknown: PATCH is idempotent, so clear the hash to resend it.
                upserts.append(_replace(row, state="done", payload_hash=None, outcome="updated"))
                continue
            lead_id = found.get(row.email or "")
            if lead_id is None:
                if resend_missing:
                    forget.append(row.row_key)
                continue
            reason = f"created by an earlier attempt (batch {row.batch_id}); confirmed by a lookup"
            upserts.append(_replace(row, state="done", lead_id=lead_id, outcome="created"))
            overrides[row.row_key] = ("created", lead_id, reason)
            if record:
                results.append(ResultRow(row.row_key, row.email, lead_id, "created", reason))
        with self.warehouse.connect() as con:
            ledger.upsert(con, self.scope, upserts)
            ledger.delete(con, self.scope, forget)
            ledger.append_results(con, self.scope, results)
        self.report.reconciled += len(open_rows)
        self.report.counts.update(r.outcome for r in results)
        resend = {r.row_key for r in open_rows if r.lead_id} if resend_missing else set()
        return overrides, set(forget) | resend

    # -- one pass over the table ------------------------------------------------------------------------

    def _pass(self, overrides: dict[str, tuple[str, str, str]], only: set[str] | None) -> list[str]:
        """Plan and send every row (or only the given row keys); returns the row keys left unknown."""
        local: list[ResultRow] = []
        jobs = self._plan(overrides, only, local)
        in_flight: dict[Future[JobResult], Job] = {}
        unknown: list[str] = []
        fatal: BaseException | None = None
        exhausted = False
        self._done_rows = 0 if only is None else self._done_rows
        with ThreadPoolExecutor(max_workers=self.target.max_in_flight, thread_name_prefix="push") as pool:
            while True:
                finished = [f for f in in_flight if f.done()]
                outcomes = [(in_flight.pop(f), f.result()) for f in finished]
                for _, outcome in outcomes:
                    unknown += outcome.unknown
                    if outcome.error is not None and fatal is None:
                        fatal = outcome.error
                new: list[Job] = []
                room = self._target_in_flight() - len(in_flight)
                while not exhausted and fatal is None and room > 0:
                    item = next(jobs, None)
                    if item is None:
                        exhausted = True
                    elif item is _FLUSH:
                        break
                    else:
                        new.append(item)  # type: ignore[arg-type]
                        room -= 1
                self._write(outcomes, local, new)  # outcomes and the intents of `new`, in one transaction
                local.clear()
                for job in new:
                    in_flight[pool.submit(self._run_job, job)] = job
                if not in_flight and (exhausted or fatal is not None):
                    break
                if in_flight:
                    wait(list(in_flight), return_when=FIRST_COMPLETED)
                    time.sleep(self._coalesce_delay())
        if fatal is not None:
            raise _ops_error(fatal, self.target.campaign_name)
        return unknown

    def _plan(
        self, overrides: dict[str, tuple[str, str, str]], only: set[str] | None, local: list[ResultRow]
    ) -> Iterator[Job | object]:
        """Yield jobs (and a flush marker after each slice); rows that need no request go to `local`."""
        target, mapping = self.target, self.target.mapping
        validator = RowValidator(key_given=target.key_given)
        adds: list[Planned] = []
        columns = mapping.columns
        for rows in self._read([*columns, ROW_PROBLEM], only):
            for rowid, row_key, state, old_hash, lead_id, old_outcome, old_email, *values in rows:
                *values, problem = values
                lead = build_lead(dict(zip(columns, values, strict=True)), mapping)
                rejection = validator.check(lead, row_key, rowid + 1, problem)
                if only is not None and rejection is not None:
                    continue  # a retry pass reports only the rows it resends
                if rejection is not None:
                    local.append(
                        ResultRow(row_key, lead.get("email"), None, rejection.outcome, rejection.reason)
                    )
                    continue
                new_hash = payload_hash(lead)
                decision = decide(
                    state,
                    old_hash,
                    lead_id,
                    old_outcome,
                    old_email,
                    payload_hash=new_hash,
                    email=lead["email"],
                    skip_mode=target.skip_mode,
                )
                if decision.action == "keep":
                    outcome, keep_id, reason = overrides.get(
                        row_key, (decision.outcome or "unchanged", decision.lead_id, decision.reason)
                    )
                    local.append(ResultRow(row_key, lead["email"], keep_id, outcome, reason))
                    continue
                planned = Planned(row_key, lead["email"], lead, new_hash, decision.lead_id, decision.reason)
                if decision.action == "update":
                    yield Job("update", self._batch_id(), [planned])
                else:
                    adds.append(planned)
                    if len(adds) >= target.batch_size:
                        yield Job("add", self._batch_id(), adds)
                        adds = []
            yield _FLUSH
        if adds:
            yield Job("add", self._batch_id(), adds)

    def _read(self, columns: list[str], only: set[str] | None) -> Iterator[list[tuple[Any, ...]]]:
        """Slices of the table in source order, or (retry pass) just the rows with the given keys."""
        step = self.target.slice_rows
        # Each slice is read, then the connection is closed *before* yielding: the consumer sends requests
        # while we are suspended here, and the warehouse must not stay locked during HTTP calls.
        if only is None:
            for start in range(0, max(self.target.row_count, 1), step):
                with self.warehouse.connect() as con:
                    rows = ledger.read_slice(con, self.scope, columns, start, start + step)
                yield rows
            return
        keys = sorted(only)
        for chunk in chunked(keys, step):
            with self.warehouse.connect() as con:
                rows = ledger.read_keys(con, self.scope, columns, chunk)
            yield rows

    # -- workers (HTTP only) ----------------------------------------------------------------------------

    def _run_job(self, job: Job) -> JobResult:
        started = time.monotonic()
        out = JobResult()
        try:
            if job.kind == "add":
                self._add(job, job.rows, out)
            else:
                self._update(job, job.rows[0], out)
        except _NOT_APPLIED as exc:
            out.forget += [r.row_key for r in job.rows if r.row_key not in _touched(out)]
            out.error = exc
        except InstantlyError as exc:  # an unexpected status: it may have been applied
            out.unknown += [r.row_key for r in job.rows if r.row_key not in _touched(out)]
            out.ledger += [
                _ledger(self, job, r, "unknown", None) for r in job.rows if r.row_key in out.unknown
            ]
            out.error = exc
        counts = Counter(r.outcome for r in out.results)
        if out.unknown:
            counts["unknown"] = len(out.unknown)
        report = BatchReport(
            self.target.campaign_name,
            job.batch_id,
            job.kind,
            len(job.rows),
            round(time.monotonic() - started, 3),
            dict(counts),
        )
        with self._lock:
            self.report.requests += 1
            self.report.batches.append(report)
        for listener in self.listeners:
            listener.on_batch(report)
        out.finished_at = time.monotonic()
        return out

    def _add(self, job: Job, rows: list[Planned], out: JobResult) -> None:
        try:
            result = self.client.leads.add(
                leads=[r.lead for r in rows],
                campaign_id=self.scope.campaign_id,
                **skip_flags(self.target.skip_mode),
            )
        except OutcomeUnknownError:
            out.unknown += [r.row_key for r in rows]
            out.ledger += [_ledger(self, job, r, "unknown", None) for r in rows]
            return
        except ValidationError as exc:  # 400/413 (or a lead our model refuses): split to find the bad rows
            if len(rows) == 1:
                reason = f"rejected by the API: {exc.server_message or exc.message}"
                out.ledger.append(_ledger(self, job, rows[0], "rejected", None, "rejected"))
                out.results.append(ResultRow(rows[0].row_key, rows[0].email, None, "rejected", reason))
                return
            half = len(rows) // 2
            self._add(job, rows[:half], out)
            self._add(job, rows[half:], out)
            return
        created = created_by_index(len(rows), result.created_leads)
        leftover = [i for i in range(len(rows)) if i not in created]
        counts = AddCounts.of(result)
        in_campaign: dict[int, str] = {}
        elsewhere: set[int] | None = None
        try:
            if needs_campaign_lookup(len(leftover), counts):
                found = self._lookup_in_campaign([rows[i].email for i in leftover])
                in_campaign = {i: found[rows[i].email] for i in leftover if rows[i].email in found}
            kinds = [n for n in (counts.skipped, counts.blocklisted, counts.invalid) if n]
            if counts.skipped and len(kinds) > 1:
                anywhere = self._lookup_anywhere([rows[i].email for i in leftover if i not in in_campaign])
                elsewhere = {i for i in leftover if rows[i].email in anywhere}
        except InstantlyError:
            # The add happened but the follow-up lookup failed: the rows not created stay unknown and are
            # looked up again by the reconcile step.
            verdicts = {}
        else:
            verdicts = attribute_leftover(
                leftover, counts, in_campaign, elsewhere, skip_mode=self.target.skip_mode
            )
        for i, row in enumerate(rows):
            if i not in created and i not in verdicts:
                out.unknown.append(row.row_key)
                out.ledger.append(_ledger(self, job, row, "unknown", None))
                continue
            if i in created:
                outcome, lead_id, reason = "created", created[i], row.reason
            else:
                outcome, lead_id, reason = verdicts[i]
            state = "done" if lead_id else "rejected"
            entry = _ledger(self, job, row, state, lead_id, outcome)
            if outcome == "duplicate" and lead_id:
                # The lead was already in the campaign with data we did not send: no hash, so the next run
                # PATCHes it with this row's data instead of calling it unchanged.
                entry = _replace(entry, payload_hash=None)
            out.ledger.append(entry)
            out.results.append(ResultRow(row.row_key, row.email, lead_id, outcome, reason))

    def _update(self, job: Job, row: Planned, out: JobResult) -> None:
        assert row.lead_id
        try:
            self.client.leads.update(row.lead_id, patch_body(row.lead, self.target.mapping))
        except OutcomeUnknownError:
            out.unknown.append(row.row_key)
            out.ledger.append(_ledger(self, job, row, "unknown", row.lead_id))
            return
        except NotFoundError:
            reason = "the lead no longer exists in Instantly; it is added again when the row changes"
            out.ledger.append(_ledger(self, job, row, "rejected", None, "rejected"))
            out.results.append(ResultRow(row.row_key, row.email, None, "rejected", reason))
            return
        except ValidationError as exc:
            reason = f"update rejected by the API: {exc.server_message or exc.message}"
            out.ledger.append(_ledger(self, job, row, "rejected", row.lead_id, "rejected"))
            out.results.append(ResultRow(row.row_key, row.email, row.lead_id, "rejected", reason))
            return
        out.ledger.append(_ledger(self, job, row, "done", row.lead_id, "updated"))
        out.results.append(ResultRow(row.row_key, row.email, row.lead_id, "updated", row.reason))

    def _lookup_in_campaign(self, emails: Sequence[str]) -> dict[str, str]:
        """email -> lead id of the campaign's leads with these emails (contacts filter, in chunks)."""
        return self._lookup(emails, campaign=self.scope.campaign_id)

    def _lookup_anywhere(self, emails: Sequence[str]) -> dict[str, str]:
        return self._lookup(emails, campaign=None)

    def _lookup(self, emails: Sequence[str], *, campaign: str | None) -> dict[str, str]:
        wanted = sorted({e for e in emails if e})
        found: dict[str, str] = {}

        def one(chunk: list[str]) -> list[tuple[str, str]]:
            filters: dict[str, Any] = {"contacts": chunk}
            if campaign:
                filters["campaign"] = campaign
            return [
                ((lead.email or "").strip().lower(), str(lead.id))
                for lead in self.client.leads.list(**filters)
            ]

        chunks = list(chunked(wanted, LOOKUP_EMAILS))
        if len(chunks) <= 1:
            pairs = [one(c) for c in chunks]
        else:
            workers = min(len(chunks), self._target_in_flight())
            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="lookup") as pool:
                pairs = list(pool.map(one, chunks))
        for chunk_pairs in pairs:
            for email, lead_id in chunk_pairs:
                if email in wanted:
                    found.setdefault(email, lead_id)
        return found

    # -- warehouse writes (main thread, short connections) ----------------------------------------------

    def _write(self, outcomes: list[tuple[Job, JobResult]], local: list[ResultRow], new: list[Job]) -> None:
        if not outcomes and not local and not new:
            return
        started = time.monotonic()
        intents = [
            LedgerRow(r.row_key, r.email, r.lead_id, r.payload_hash, "pending", None, job.batch_id)
            for job in new
            for r in job.rows
        ]
        results = local + [r for _, o in outcomes for r in o.results]
        with self.warehouse.connect() as con:
            con.execute("BEGIN TRANSACTION")
            ledger.upsert(con, self.scope, [row for _, o in outcomes for row in o.ledger] + intents)
            ledger.delete(con, self.scope, [k for _, o in outcomes for k in o.forget])
            ledger.append_results(con, self.scope, results)
            con.execute("COMMIT")
        ended = time.monotonic()
        self._write_ewma = _ewma(self._write_ewma, ended - started)
        for _, outcome in outcomes:
            self._idle_ewma = _ewma(self._idle_ewma, ended - outcome.finished_at)
        self.report.counts.update(r.outcome for r in results)
        self._done_rows += len(results)
        for listener in self.listeners:
            listener.on_progress(self.target.campaign_name, self._done_rows, self.target.row_count)

    def _give_up_unknown(self) -> None:
        """Rows still unknown after every pass: left `unknown` for the next run, reported as such."""
        with self.warehouse.connect() as con:
            left = ledger.open_rows(con, self.scope)
            reason = "outcome still unknown after retries (timeouts or 5xx); the next run reconciles it"
            rows = [ResultRow(r.row_key, r.email, r.lead_id, "rejected", reason) for r in left]
            ledger.append_results(con, self.scope, rows)
        self.report.unresolved = len(rows)
        self.report.counts.update(r.outcome for r in rows)

    # -- sizing -----------------------------------------------------------------------------------------

    def _target_in_flight(self) -> int:
        return in_flight_target(
            self.client.rate_per_second,
            self.client.rate_per_minute,
            self.client.stats.latency_ewma,
            overhead=self._idle_ewma or self._write_ewma or 0.0,
            maximum=self.target.max_in_flight,
        )

    def _coalesce_delay(self) -> float:
        """A short pause after a completion so one ledger write covers several finished requests."""
        return min(0.05, (self._write_ewma or 0.0) / 2)

    def _batch_id(self) -> str:
        self._seq += 1
        return f"{self.scope.run_id[:8]}-{self.scope.campaign_id[:8]}-{self._seq:05d}"


def _ewma(current: float | None, sample: float, alpha: float = 0.3) -> float:
    return sample if current is None else alpha * sample + (1 - alpha) * current


def _replace(row: LedgerRow, **changes: Any) -> LedgerRow:
    data = {**row.__dict__, **changes}
    return LedgerRow(**data)


def _ledger(
    push: CampaignPush, job: Job, row: Planned, state: str, lead_id: str | None, outcome: str | None = None
) -> LedgerRow:
    return LedgerRow(row.row_key, row.email, lead_id, row.payload_hash, state, outcome, job.batch_id)


def _touched(out: JobResult) -> set[str]:
    return {r.row_key for r in out.ledger} | set(out.forget) | set(out.unknown)


def _ops_error(exc: BaseException, campaign: str) -> OpsError:
    hint = getattr(exc, "hint", None) or "fix the problem and run the push again: sent rows are not resent"
    return OpsError(f"Push to campaign {campaign!r} stopped: {exc}", hint=hint)
