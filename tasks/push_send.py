"""Send: the HTTP side of one job (a bulk add of up to 1,000 rows, or one PATCH), on a worker thread.

A worker only does HTTP and returns what happened to each row of its job as frames (JobResult): ledger
entries, per-row results, rows to forget (the request provably never took effect) and rows whose outcome
is unknown. The bookkeeper records them (tasks/push_pipeline.py). A bulk add's response is attributed to
its rows by tasks/push_plan.py (created_leads[].index, then the counters and lookups for the rest).
"""

from __future__ import annotations

import threading
import time
from collections import Counter

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
from tasks.lead_frame import parse_lead
from tasks.mapping import holds_already, patch_body
from tasks.push_lookup import Lookups
from tasks.push_models import BatchReport, CampaignReport, Job, JobResult, PushTarget
from tasks.push_plan import (
    AddCounts,
    all_created,
    attribute_leftover,
    created_by_index,
    needs_campaign_lookup,
    sibling_verdict,
    skip_flags,
    skip_guard,
)
from warehouse import ledger

# Requests refused outright: nothing was written, so their rows can be forgotten and sent again later.
_NOT_APPLIED = (
    AuthenticationError,
    PaymentRequiredError,
    PermissionDeniedError,
    NotFoundError,
    RateLimitError,
    ConnectionFailedError,
)
# The reason of a row whose lead was read before an update and already held the row's values.
_HELD_ALREADY = "the lead in Instantly already held these values: read, not written"


class Sender:
    """Runs jobs against one campaign; thread-safe (workers share it), reports batches in `report`.

    Args:
        client: the push's client (its limiter paces request starts).
        target: what is pushed where.
        lookups: email lookups for rows a bulk add did not create.
        report: the campaign's report (batches and guard_lifted are added under a lock).
    """

    def __init__(
        self, client: InstantlyClient, target: PushTarget, lookups: Lookups, report: CampaignReport
    ) -> None:
        self.client = client
        self.target = target
        self.lookups = lookups
        self.report = report
        self._lock = threading.Lock()

    def run_job(self, job: Job) -> JobResult:
        """Send one job (on a worker thread) and say what happened to each of its rows."""
        started = time.monotonic()
        out = JobResult()
        keys = job.row_keys
        try:
            if job.kind == "add":
                self._add(job, job.rows, out)
            else:
                self._update(job, out)
        except _NOT_APPLIED as exc:
            # An add that provably never took effect is forgotten: the next run sends it as new. An update
            # is not: forgotten, its row would read as never pushed and be added again (a `duplicate`, its
            # lead left with its old values); its intent, with the lead id, stays open, and the next
            # reconcile sends the PATCH again (idempotent).
            if job.kind == "add":
                touched = _touched(out, job)
                out.forget += [k for k in keys if k not in touched]
            out.error = exc
        except InstantlyError as exc:  # an unexpected status: it may have been applied
            touched = _touched(out, job)
            left = [k for k in keys if k not in touched]
            out.unknown += left
            out.ledger.append(
                ledger.entry_frame(
                    job.rows.filter(pl.col("row_key").is_in(left)), "unknown", batch_id=job.batch_id
                )
            )
            out.error = exc
        counts: Counter[str] = Counter()
        if out.created is not None:
            counts["created"] = len(out.created)
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
            self.report.batches.append(report)
        return out

    def _add(self, job: Job, rows: pl.DataFrame, out: JobResult, *, guard: bool = True) -> None:
        """One bulk add; `guard=False` sends without skip flags (rows only in this push's campaigns)."""
        try:
            result = self.client.leads.add_encoded(
                leads=rows["lead"].to_list(),
                campaign_id=self.target.scope.campaign_id,
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
        if rows is job.rows:  # the whole job: when all of it was created, the bookkeeper builds its frames
            out.created = all_created(sent, result.created_leads)
            if out.created is not None:
                return
        created = created_by_index(sent, result.created_leads)
        if len(created) == sent:  # every row created (part of a job: a split half, a resend without flags)
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
                # Leads already in this campaign are the `duplicated` ones; skipped leads are elsewhere.
                found = self.lookups.in_campaign(
                    [emails[i] for i in leftover], expected_found=counts.duplicated
                )
                in_campaign = {i: found[emails[i]] for i in leftover if emails[i] in found}
            kinds = [n for n in (counts.skipped, counts.blocklisted, counts.invalid) if n]
            if counts.skipped and len(kinds) > 1:
                anywhere = self.lookups.anywhere(
                    [emails[i] for i in leftover if i not in in_campaign], expected_found=counts.skipped
                )
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
        outcomes: list[ledger.Outcome] = []
        why: list[str | None] = []
        outcome: ledger.Outcome
        lead_id: str | None
        row_reason: str | None
        for i in known:
            if i in created:
                outcome, lead_id, row_reason = "created", created[i], reasons[i]
            else:
                outcome, lead_id, row_reason = verdicts[i]
            lead_ids.append(lead_id)
            outcomes.append(outcome)
            why.append(row_reason)
        if unknown:
            out.unknown += [keys[i] for i in unknown]
            out.ledger.append(ledger.entry_frame(rows[unknown], "unknown", batch_id=job.batch_id))
        if known:
            done = rows[known]
            states: list[ledger.LedgerState] = ["done" if lead_id else "rejected" for lead_id in lead_ids]
            # A duplicate was already in the campaign with data we did not send: no hash, so the next run
            # PATCHes it with this row's data instead of calling it unchanged. A skipped row's hash carries
            # the guard it was skipped under, so a push under another guard sends it again (push_plan.decide).
            guarded = skip_guard(self.target.skip_mode, self.target.siblings)
            hashes = [
                None if o == "duplicate" and lead_id else (h + guarded if o == "skipped" and h else h)
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
            note = "added although in another campaign of this push (campaigns of one push do not block each other)"
            self._add(job, rows[resend].with_columns(reason=pl.lit(note)), out, guard=False)

    def _skipped_by_siblings(
        self, emails: list[str], verdicts: dict[int, tuple[ledger.Outcome, str | None, str]]
    ) -> list[int]:
        """Rows skipped by skip_if_in_campaign only because of this push's other campaigns (to resend).

        Skipped rows in a campaign outside the push keep a reason naming it; when the lookup fails they are
        dropped from `verdicts` (their outcome is unknown: the reconcile step looks them up).
        """
        skipped = [i for i, v in verdicts.items() if v[0] == "skipped"]
        if not skipped or self.target.skip_mode != "in_campaign" or not self.target.siblings:
            return []
        try:
            where = self.lookups.campaigns_of([emails[i] for i in skipped])
        except InstantlyError:
            for i in skipped:
                verdicts.pop(i)
            return []
        ours = {*self.target.siblings, self.target.scope.campaign_id}
        resend = []
        for i in skipped:
            verdict = sibling_verdict(where.get(emails[i]), ours)
            if verdict is None:
                verdicts.pop(i)
                resend.append(i)
            else:
                verdicts[i] = ("skipped", None, verdict)
        return resend

    def _update(self, job: Job, out: JobResult) -> None:
        row = job.rows
        lead_id = row["lead_id"][0]
        assert lead_id
        lead = parse_lead(row["lead"][0])
        try:
            # SPEC patchLead does not say whether custom_variables merge or replace: read the lead's current
            # ones first and send them back with ours, so nothing someone else set is erased either way.
            current = self.client.leads.get(lead_id).model_dump() if "custom_variables" in lead else None
            body = patch_body(lead, self.target.mapping, current and current.get("payload"))
            if current is not None and holds_already(current, body):
                # Read anyway: a lead that already holds this row's values (e.g. a duplicate that another
                # table's push made) is not written again.
                out.ledger.append(
                    ledger.entry_frame(
                        row, "done", batch_id=job.batch_id, lead_ids=[lead_id], outcomes="unchanged"
                    )
                )
                out.results.append(ledger.result_frame(row, [lead_id], ["unchanged"], [_HELD_ALREADY]))
                return
            self.client.leads.update(lead_id, body)
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


def _touched(out: JobResult, job: Job) -> set[str]:
    if out.created is not None:
        return set(job.row_keys)
    keys = {k for frame in out.ledger for k in frame["row_key"].to_list()}
    return keys | set(out.forget) | set(out.unknown)
