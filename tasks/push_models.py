"""The push engine's data: a push target, planned rows, jobs, their results and the reports."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Protocol

import polars as pl

from tasks.mapping import ColumnMapping
from tasks.push_plan import MAX_LEADS_PER_ADD
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
    ledger.RESULT_COLUMNS), rows to forget (never applied) and rows whose outcome is unknown."""

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

    `guard_lifted`: leads skip_if_in_campaign skipped only because they are in another campaign of this push,
    sent again without the flag (the summary says so).
    """

    campaign_id: str
    campaign_name: str
    counts: Counter[str] = field(default_factory=Counter)
    batches: list[BatchReport] = field(default_factory=list)
    requests: int = 0
    reconciled: int = 0
    unresolved: int = 0
    seconds: float = 0.0
    guard_lifted: int = 0
