"""The push engine's data: a push target, planned rows, jobs, their results and the reports."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

import polars as pl

from ops_core.bounds import MAX_LEADS_PER_ADD
from tasks.mapping import ColumnMapping
from warehouse.ledger import LedgerScope


@dataclass(frozen=True)
class PushTarget:
    """One (table, campaign) push.

    Attributes:
        siblings: ids of the other campaigns this table is pushed to in the same push (named together, or
            connected to the same table): under skip_if_in_campaign they do not block each other.
    """

    scope: LedgerScope
    campaign_name: str
    mapping: ColumnMapping
    key_given: bool
    row_count: int
    place: str = "row"  # what reasons call a row's place in its source: "line" (a CSV file) or "row"
    skip_mode: str = "in_campaign"
    siblings: frozenset[str] = frozenset()
    batch_size: int = MAX_LEADS_PER_ADD
    slice_rows: int = 50_000
    max_in_flight: int = 128


# The columns of a job's rows: what is sent (lead: canonical JSON text) and what the ledger records.
JOB_COLUMNS = ("row_key", "email", "lead", "payload_hash", "lead_id", "reason")


@dataclass
class Job:
    """One request: a bulk add of up to 1,000 rows, or one PATCH.

    `rows` has the JOB_COLUMNS, in source order (a bulk add's `created_leads[].index` points into it).
    """

    kind: str  # add | update
    batch_id: str
    rows: pl.DataFrame

    @property
    def row_keys(self) -> list[str]:
        return list(self.rows["row_key"].to_list())


@dataclass
class JobResult:
    """What a finished job did to its rows: ledger entries and results as frames (ledger.ENTRY_COLUMNS /
    ledger.RESULT_COLUMNS), rows to forget (never applied) and rows whose outcome is unknown.

    `created` is the common case of a bulk add, kept as plain lead ids: every row of the job was created,
    these are their lead ids in row order. The bookkeeper turns the created jobs of a cycle into entries and
    results at once (ledger.created_frames): attributing the answer and building two frames per request
    cost the sender's threads about 2 ms of CPU a request (2 s per million leads; bench/README.md).
    """

    created: list[str] | None = None
    ledger: list[pl.DataFrame] = field(default_factory=list)
    results: list[pl.DataFrame] = field(default_factory=list)
    forget: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    error: BaseException | None = None


@dataclass
class BatchReport:
    """Per-request counts, for the batch table artifact."""

    campaign: str
    batch_id: str
    kind: str
    rows: int
    seconds: float
    counts: dict[str, int]


class PushListener(Protocol):
    """Receives progress; the CLI draws a bar, the flow updates a Prefect progress artifact."""

    def on_progress(self, campaign: str, done: int, total: int) -> None: ...


@dataclass
class CampaignReport:
    """The outcome of pushing one table to one campaign.

    `created_earlier`: rows an earlier, interrupted run had sent, found in the campaign by a lookup when this
    run started: reported `created` (their reason says so) and not sent again.
    `guard_lifted`: leads skip_if_in_campaign skipped only because they are in another campaign of this push,
    sent again without the flag (the summary says so). `already_in_campaign`: the `duplicate` rows the API
    found in the campaign (they have its lead id; a row repeating another row of the table has none). `requests_by_endpoint`: every HTTP request the push's
    client sent (`ClientStats.by_endpoint`: retries and the lookups that explain a bulk add included).
    """

    campaign_id: str
    campaign_name: str
    counts: Counter[str] = field(default_factory=Counter)
    batches: list[BatchReport] = field(default_factory=list)
    requests_by_endpoint: dict[str, int] = field(default_factory=dict)
    reconciled: int = 0
    created_earlier: int = 0
    unresolved: int = 0
    seconds: float = 0.0
    guard_lifted: int = 0
    already_in_campaign: int = 0

    @property
    def requests(self) -> int:
        """Every HTTP request of this push to this campaign."""
        return sum(self.requests_by_endpoint.values())

    def requests_by_kind(self) -> dict[str, int]:
        """Requests by what they were for (`REQUEST_KINDS`; another endpoint by its own name), in that order."""
        return requests_by_kind(self.requests_by_endpoint)


# What the push's requests are for, in the summaries (endpoints as `instantly_client.endpoint_of` names them).
REQUEST_KINDS = {
    "POST /leads/add": "adds",  # SPEC POST /api/v2/leads/add
    "POST /leads/list": "lookups",  # SPEC POST /api/v2/leads/list: which leads have these emails
    "PATCH /leads/{id}": "updates",  # SPEC PATCH /api/v2/leads/{id}
    "GET /leads/{id}": "reads",  # SPEC GET /api/v2/leads/{id}: custom variables before a PATCH
    "GET /workspaces/current": "workspace",  # SPEC GET /api/v2/workspaces/current: the ledger's key
}


def requests_by_kind(by_endpoint: Mapping[str, int]) -> dict[str, int]:
    """`{"adds": 3, "lookups": 1, ...}` from requests per endpoint (pure): the kinds in REQUEST_KINDS order,
    other endpoints after them under their own names; kinds with no request left out."""
    out: dict[str, int] = {}
    for endpoint, kind in REQUEST_KINDS.items():
        if by_endpoint.get(endpoint):
            out[kind] = out.get(kind, 0) + by_endpoint[endpoint]
    for endpoint, n in sorted(by_endpoint.items()):
        if endpoint not in REQUEST_KINDS and n:
            out[endpoint] = n
    return out


def describe_requests(by_kind: Mapping[str, int]) -> str:
    """`adds 2, lookups 1, workspace 1` (pure): for the summaries; `none` when no request was sent."""
    return ", ".join(f"{kind} {n:,}" for kind, n in by_kind.items()) or "none"
