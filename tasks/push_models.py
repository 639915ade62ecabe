"""The push engine's data: a push target, planned rows, jobs, their results and the reports."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Protocol

from tasks.mapping import ColumnMapping
from tasks.push_plan import MAX_LEADS_PER_ADD
from warehouse.ledger import LedgerRow, LedgerScope, ResultRow


@dataclass(frozen=True)
class PushTarget:
    """One (table, campaign) push."""

    scope: LedgerScope
    campaign_name: str
    mapping: ColumnMapping
    key_given: bool
    row_count: int
    skip_mode: str = "in_campaign"
    batch_size: int = MAX_LEADS_PER_ADD
    slice_rows: int = 5_000
    max_in_flight: int = 64


@dataclass(frozen=True)
class Planned:
    """A row to send: its payload, hash and (for an update) lead id."""

    row_key: str
    email: str
    lead: dict[str, Any]
    payload_hash: str
    lead_id: str | None = None
    reason: str | None = None


@dataclass
class Job:
    """One request: a bulk add of up to 1,000 rows, or one PATCH."""

    kind: str  # add | update
    batch_id: str
    rows: list[Planned]


@dataclass
class JobResult:
    """What a finished job did to each of its rows."""

    ledger: list[LedgerRow] = field(default_factory=list)
    results: list[ResultRow] = field(default_factory=list)
    forget: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    error: BaseException | None = None
    finished_at: float = 0.0


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

    def on_batch(self, report: BatchReport) -> None: ...


@dataclass
class CampaignReport:
    """The outcome of pushing one table to one campaign."""

    campaign_id: str
    campaign_name: str
    counts: Counter[str] = field(default_factory=Counter)
    batches: list[BatchReport] = field(default_factory=list)
    requests: int = 0
    reconciled: int = 0
    unresolved: int = 0
    seconds: float = 0.0
