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

import dataclasses
import math
import threading
import time
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import polars as pl

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
from tasks.lead_frame import parse_lead
from tasks.mapping import patch_body
from tasks.push_models import BatchReport, CampaignReport, Job, JobResult, PushListener, PushTarget
from tasks.push_pipeline import PushPass
from tasks.push_plan import (
    AddCounts,
    attribute_leftover,
    chunked,
    created_by_index,
    in_flight_target,
    needs_campaign_lookup,
    sibling_verdict,
    skip_flags,
)
from warehouse import ledger
from warehouse.db import Warehouse
from warehouse.ledger import LedgerEntry, ResultRow

__all__ = ["BatchReport", "CampaignPush", "CampaignReport", "PushListener", "PushTarget"]

LOOKUP_EMAILS = 100  # emails per /leads/list contacts lookup (SPEC /leads/list limit max 100 per page)
# Before any response: size the first requests for this latency (the limiter paces their starts anyway).
FIRST_LATENCY_GUESS = 0.5
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
        with self.warehouse.connect() as con:
            ledger.compact(con, self.scope)
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
            open_rows = ledger.open_entries(con, self.scope)
        if not open_rows:
            return {}, set()
        adds = [r for r in open_rows if not r.lead_id]
        found = self._lookup_in_campaign([r.email for r in adds if r.email])
        upserts: list[LedgerEntry] = []
        forget: list[str] = []
        results: list[ResultRow] = []
        overrides: dict[str, tuple[str, str, str]] = {}
        for row in open_rows:
            if row.lead_id:
                if not resend_missing:
                    continue  # stays unknown: reported now, re-PATCHed by the next run
                # An update whose outcome is unknown: PATCH is idempotent, so clear the hash to resend it.
                upserts.append(dataclasses.replace(row, state="done", payload_hash=None, outcome="updated"))
                continue
            lead_id = found.get(row.email or "")
            if lead_id is None:
                if resend_missing:
                    forget.append(row.row_key)
                continue
            reason = f"created by an earlier attempt (batch {row.batch_id}); confirmed by a lookup"
            upserts.append(dataclasses.replace(row, state="done", lead_id=lead_id, outcome="created"))
            overrides[row.row_key] = ("created", lead_id, reason)
            if record:
                results.append(ResultRow(row.row_key, row.email, lead_id, "created", reason))
        with self.warehouse.transaction() as con:
            ledger.write(con, self.scope, ledger.entries_of(upserts), forget=forget)
            ledger.append_results(con, self.scope, results)
        self.report.reconciled += len(open_rows)
        self.report.counts.update(r.outcome for r in results)
        resend = {r.row_key for r in open_rows if r.lead_id} if resend_missing else set()
        return overrides, set(forget) | resend

    # -- one pass over the table ------------------------------------------------------------------------

    def _pass(self, overrides: dict[str, tuple[str, str, str]], only: set[str] | None) -> list[str]:
        """Plan and send every row (or only the given row keys); returns the row keys left unknown."""
        if only is None:
            self._done_rows = 0
        one = PushPass(
            self.warehouse,
            self.target,
            overrides=overrides,
            only=only,
            run_job=self._run_job,
            in_flight=self._target_in_flight,
            rate=min(self.client.rate_per_second, (self.client.rate_per_minute or math.inf) / 60),
            batch_id=self._batch_id,
            listeners=self.listeners,
            on_results=self._count,
        )
        outcome = one.run()
        if outcome.fatal is not None:
            raise _ops_error(outcome.fatal, self.target.campaign_name)
        return outcome.unknown

    def _count(self, results: pl.DataFrame) -> None:
        counts = results["outcome"].value_counts()
        with self._lock:
            for outcome, n in counts.iter_rows():
                self.report.counts[outcome] += n

    # -- workers (HTTP only) ----------------------------------------------------------------------------

    def _run_job(self, job: Job) -> JobResult:
        started = time.monotonic()
        out = JobResult()
        keys = job.row_keys
        try:
            if job.kind == "add":
                self._add(job, job.rows, out)
            else:
                self._update(job, out)
        except _NOT_APPLIED as exc:
            touched = _touched(out)
            out.forget += [k for k in keys if k not in touched]
            out.error = exc
        except InstantlyError as exc:  # an unexpected status: it may have been applied
            touched = _touched(out)
            left = [k for k in keys if k not in touched]
            out.unknown += left
            out.ledger.append(
                ledger.entry_frame(
                    job.rows.filter(pl.col("row_key").is_in(left)), "unknown", batch_id=job.batch_id
                )
            )
            out.error = exc
        counts: Counter[str] = Counter()
        for frame in out.results:
            counts.update(frame["outcome"].to_list())
        if out.unknown:
            counts["unknown"] = len(out.unknown)
        report = BatchReport(
            self.target.campaign_name,
            job.batch_id,
            job.kind,
            job.rows.height,
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

    def _add(self, job: Job, rows: pl.DataFrame, out: JobResult, *, guard: bool = True) -> None:
        """One bulk add; `guard=False` sends without skip flags (rows only in this push's campaigns)."""
        try:
            result = self.client.leads.add_encoded(
                leads=rows["lead"].to_list(),
                campaign_id=self.scope.campaign_id,
                **skip_flags(self.target.skip_mode if guard else "none"),
            )
        except OutcomeUnknownError:
            out.unknown += rows["row_key"].to_list()
            out.ledger.append(ledger.entry_frame(rows, "unknown", batch_id=job.batch_id))
            return
        except ValidationError as exc:  # 400/413: split to find the bad rows
            if rows.height == 1:
                reason = f"rejected by the API: {exc.server_message or exc.message}"
                out.ledger.append(
                    ledger.entry_frame(rows, "rejected", batch_id=job.batch_id, outcomes="rejected")
                )
                out.results.append(ledger.result_frame(rows, [None], ["rejected"], [reason]))
                return
            half = rows.height // 2
            self._add(job, rows.slice(0, half), out, guard=guard)
            self._add(job, rows.slice(half), out, guard=guard)
            return
        sent = rows.height
        created = created_by_index(sent, result.created_leads)
        if len(created) == sent:  # the common case: every row created
            ids = [created[i] for i in range(sent)]
            out.ledger.append(
                ledger.entry_frame(rows, "done", batch_id=job.batch_id, lead_ids=ids, outcomes="created")
            )
            out.results.append(ledger.result_frame(rows, ids, ["created"] * sent, rows["reason"].to_list()))
            return
        emails: list[str] = rows["email"].to_list()
        leftover = [i for i in range(sent) if i not in created]
        counts = AddCounts.of(result)
        in_campaign: dict[int, str] = {}
        elsewhere: set[int] | None = None
        try:
            if needs_campaign_lookup(len(leftover), counts):
                found = self._lookup_in_campaign([emails[i] for i in leftover])
                in_campaign = {i: found[emails[i]] for i in leftover if emails[i] in found}
            kinds = [n for n in (counts.skipped, counts.blocklisted, counts.invalid) if n]
            if counts.skipped and len(kinds) > 1:
                anywhere = self._lookup_anywhere([emails[i] for i in leftover if i not in in_campaign])
                elsewhere = {i for i in leftover if emails[i] in anywhere}
        except InstantlyError:
            # The add happened but the follow-up lookup failed: the rows not created stay unknown and are
            # looked up again by the reconcile step.
            verdicts = {}
        else:
            verdicts = attribute_leftover(
                leftover, counts, in_campaign, elsewhere, skip_mode=self.target.skip_mode
            )
        resend = self._skipped_by_siblings(emails, verdicts) if guard else []
        reasons: list[str | None] = rows["reason"].to_list()
        keys: list[str] = rows["row_key"].to_list()
        unknown = [i for i in range(sent) if i not in created and i not in verdicts and i not in resend]
        known = [i for i in range(sent) if i in created or i in verdicts]
        lead_ids: list[str | None] = []
        outcomes: list[str] = []
        why: list[str | None] = []
        for i in known:
            if i in created:
                outcome, lead_id, reason = "created", created[i], reasons[i]
            else:
                outcome, lead_id, reason = verdicts[i]
            lead_ids.append(lead_id)
            outcomes.append(outcome)
            why.append(reason)
        if unknown:
            out.unknown += [keys[i] for i in unknown]
            out.ledger.append(ledger.entry_frame(rows[unknown], "unknown", batch_id=job.batch_id))
        if known:
            done = rows[known]
            states = ["done" if lead_id else "rejected" for lead_id in lead_ids]
            # A duplicate was already in the campaign with data we did not send: no hash, so the next run
            # PATCHes it with this row's data instead of calling it unchanged.
            hashes = [
                None if o == "duplicate" and lead_id else h
                for o, lead_id, h in zip(outcomes, lead_ids, done["payload_hash"].to_list(), strict=True)
            ]
            out.ledger.append(
                ledger.entry_frame(
                    done,
                    states,
                    batch_id=job.batch_id,
                    lead_ids=lead_ids,
                    outcomes=outcomes,
                    payload_hashes=hashes,
                )
            )
            out.results.append(ledger.result_frame(done, lead_ids, outcomes, why))
        if resend:
            # skip_if_in_campaign skips a lead in ANY campaign (SPEC), including the ones this same push just
            # filled: these are only in campaigns of this push, so they go again without the flag.
            with self._lock:
                self.report.guard_lifted += len(resend)
                self.report.requests += 1  # the second bulk add, without the flag
            note = "added although in another campaign of this push (campaigns of one push do not block each other)"
            self._add(job, rows[resend].with_columns(reason=pl.lit(note)), out, guard=False)

    def _skipped_by_siblings(
        self, emails: list[str], verdicts: dict[int, tuple[str, str | None, str]]
    ) -> list[int]:
        """Rows skipped by skip_if_in_campaign only because of this push's other campaigns (to resend).

        Skipped rows in a campaign outside the push keep a reason naming it; when the lookup fails they are
        dropped from `verdicts` (their outcome is unknown: the reconcile step looks them up).
        """
        skipped = [i for i, v in verdicts.items() if v[0] == "skipped"]
        if not skipped or self.target.skip_mode != "in_campaign" or not self.target.siblings:
            return []
        try:
            where = self._campaigns_of([emails[i] for i in skipped])
        except InstantlyError:
            for i in skipped:
                verdicts.pop(i)
            return []
        ours = {*self.target.siblings, self.scope.campaign_id}
        resend = []
        for i in skipped:
            verdict = sibling_verdict(where.get(emails[i]), ours)
            if verdict is None:
                verdicts.pop(i)
                resend.append(i)
            else:
                verdicts[i] = ("skipped", None, verdict)
        return resend

    def _campaigns_of(self, emails: Sequence[str]) -> dict[str, set[str]]:
        """email -> ids of the campaigns holding a lead with it (/leads/list contacts filter, any campaign)."""
        wanted = sorted({e for e in emails if e})
        found: dict[str, set[str]] = {}
        for chunk in chunked(wanted, LOOKUP_EMAILS):
            for lead in self.client.leads.list(contacts=chunk):
                email = (lead.email or "").strip().lower()
                if email in wanted and lead.campaign:
                    found.setdefault(email, set()).add(str(lead.campaign))
        return found

    def _update(self, job: Job, out: JobResult) -> None:
        row = job.rows
        lead_id = row["lead_id"][0]
        assert lead_id
        lead = parse_lead(row["lead"][0])
        try:
            # SPEC patchLead does not say whether custom_variables merge or replace: read the lead's current
            # ones first and send them back with ours, so nothing someone else set is erased either way.
            current = self.client.leads.get(lead_id).payload if "custom_variables" in lead else None
            self.client.leads.update(lead_id, patch_body(lead, self.target.mapping, current))
        except OutcomeUnknownError:
            out.unknown += row["row_key"].to_list()
            out.ledger.append(ledger.entry_frame(row, "unknown", batch_id=job.batch_id, lead_ids=[lead_id]))
            return
        except NotFoundError:
            reason = "the lead no longer exists in Instantly; it is added again when the row changes"
            out.ledger.append(
                ledger.entry_frame(
                    row, "rejected", batch_id=job.batch_id, lead_ids=[None], outcomes="rejected"
                )
            )
            out.results.append(ledger.result_frame(row, [None], ["rejected"], [reason]))
            return
        except ValidationError as exc:
            reason = f"update rejected by the API: {exc.server_message or exc.message}"
            out.ledger.append(
                ledger.entry_frame(
                    row, "rejected", batch_id=job.batch_id, lead_ids=[lead_id], outcomes="rejected"
                )
            )
            out.results.append(ledger.result_frame(row, [lead_id], ["rejected"], [reason]))
            return
        out.ledger.append(
            ledger.entry_frame(row, "done", batch_id=job.batch_id, lead_ids=[lead_id], outcomes="updated")
        )
        out.results.append(ledger.result_frame(row, [lead_id], ["updated"], row["reason"].to_list()))

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

    # -- warehouse writes (short connections) ----------------------------------------------------------

    def _give_up_unknown(self) -> None:
        """Rows still unknown after every pass: left `unknown` for the next run, reported as such."""
        with self.warehouse.connect() as con:
            left = ledger.open_entries(con, self.scope)
            reason = "outcome still unknown after retries (timeouts or 5xx); the next run reconciles it"
            rows = [ResultRow(r.row_key, r.email, r.lead_id, "unknown", reason) for r in left]
            ledger.append_results(con, self.scope, rows)
        self.report.unresolved = len(rows)
        self.report.counts.update(r.outcome for r in rows)

    # -- sizing -----------------------------------------------------------------------------------------

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


def _touched(out: JobResult) -> set[str]:
    keys = {k for frame in out.ledger for k in frame["row_key"].to_list()}
    return keys | set(out.forget) | set(out.unknown)


def _ops_error(exc: BaseException, campaign: str) -> OpsError:
    hint = getattr(exc, "hint", None) or "fix the problem and run the push again: sent rows are not resent"
    return OpsError(f"Push to campaign {campaign!r} stopped: {exc}", hint=hint)
