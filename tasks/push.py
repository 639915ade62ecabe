"""Push tasks: resolve campaigns, preview a dry run, push one table to one campaign, publish artifacts.

Retries stay at 0: request-level retries live in the client, and the ledger makes a re-run safe.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, cast
from uuid import UUID

import polars as pl
from prefect import task
from prefect.cache_policies import NONE

from blocks import InstantlyCredentials
from instantly_client import InstantlyClient
from instantly_client.errors import AmbiguousNameError, InstantlyError, NotFoundError, PermissionDeniedError
from ops_core.errors import OpsError, did_you_mean
from ops_core.text import counted
from tasks.extract import ExtractedTable
from tasks.lead_frame import LeadFrames, parse_lead
from tasks.mapping import ColumnMapping
from tasks.push_engine import CampaignPush, CampaignReport, PushListener, PushTarget
from tasks.push_models import describe_requests
from tasks.push_plan import duplicate_hint, skip_hint
from warehouse import ledger
from warehouse.db import Warehouse
from warehouse.ledger import OUTCOMES, LedgerScope

_TASK: dict[str, Any] = {"retries": 0, "cache_policy": NONE}
_listeners: list[PushListener] = []
_listeners_lock = threading.Lock()


@contextmanager
def listening(listener: PushListener) -> Iterator[None]:
    """Send this process's push progress to `listener` while the block runs (the CLI's progress bar)."""
    with _listeners_lock:
        _listeners.append(listener)
    try:
        yield
    finally:
        with _listeners_lock:
            _listeners.remove(listener)


@dataclass(frozen=True)
class CampaignRef:
    """A campaign resolved from an id or a name."""

    id: str
    name: str


@dataclass
class DryRunPreview:
    """What a dry run shows: the mapping, the validation summary and the first payloads."""

    table: str
    rows: int
    mapping: list[tuple[str, str]]
    validation: dict[str, int]
    examples: list[str] = field(default_factory=list)
    payloads: list[dict[str, Any]] = field(default_factory=list)


@task(name="resolve_campaigns", **_TASK)
def resolve_campaigns(credentials: InstantlyCredentials, ids_or_names: Sequence[str]) -> list[CampaignRef]:
    """Look every campaign up (by id or exact name) before anything is sent.

    Raises:
        OpsError: an unknown or ambiguous campaign, or the API refused the key.
    """
    found, missing = find_campaigns.fn(credentials, ids_or_names)
    if missing:
        raise OpsError(
            f"Unknown campaign {missing[0].wanted!r}: {missing[0].message}.",
            hint="check the id or exact name with `ops-instantly campaigns list`",
        )
    return found


@dataclass(frozen=True)
class MissingCampaign:
    """A campaign Instantly does not know (deleted, or a wrong id or name): what was asked for, and the
    API's words (`campaign '...' not found`)."""

    wanted: str
    message: str
    close: str = ""  # ` (did you mean 'Q3 founders'?)` when a campaign's name is close to what was asked for


@task(name="find_campaigns", **_TASK)
def find_campaigns(
    credentials: InstantlyCredentials, ids_or_names: Sequence[str]
) -> tuple[list[CampaignRef], list[MissingCampaign]]:
    """Look every campaign up (by id or exact name): the ones found, and apart the ones Instantly does not
    know, so a push can still go to the others (a campaign deleted in Instantly stays connected).

    Raises:
        OpsError: an ambiguous name, or the API refused the key or failed (nothing can be pushed then).
    """
    found: list[CampaignRef] = []
    missing: list[MissingCampaign] = []
    with credentials.get_client() as client:
        for wanted in ids_or_names:
            try:
                campaign = client.campaigns.find(wanted)
            except NotFoundError as exc:
                close = did_you_mean(wanted, exc.near_names)
                missing.append(MissingCampaign(wanted, exc.message + close, close))
                continue
            except AmbiguousNameError as exc:
                raise OpsError(
                    f"Unknown campaign {wanted!r}: {exc.message}.",
                    hint="check the id or exact name with `ops-instantly campaigns list`",
                ) from None
            except InstantlyError as exc:
                raise OpsError(f"Cannot look up campaign {wanted!r}: {exc.summary}", hint=exc.hint) from None
            ref = CampaignRef(id=str(campaign.id), name=campaign.name or str(campaign.id))
            if ref not in found:
                found.append(ref)
    return found, missing


@task(name="preview_push", **_TASK)
def preview_push(
    warehouse: Warehouse, table: ExtractedTable, mapping: ColumnMapping, *, payloads: int = 3
) -> DryRunPreview:
    """Validate every row and keep the first payloads, sending nothing."""
    frames = LeadFrames(mapping, key_given=table.key_column is not None, place=table.place)
    preview = DryRunPreview(table=table.name, rows=table.row_count, mapping=mapping.rows(), validation={})
    # No campaign: the ledger join matches nothing, so this reads the source rows only.
    scope = LedgerScope("", "", table.name, "")
    step = 50_000
    for start in range(0, table.row_count, step):
        with warehouse.connect() as con:
            raw = ledger.read_slice(con, scope, mapping.columns, start, start + step)
        rows = frames.prepare(raw, mapping.columns)
        room = 10 - len(preview.examples)
        if room > 0:
            rejected = rows.filter(pl.col("outcome").is_not_null()).head(room)
            preview.examples += [f"{o}: {r}" for o, r in rejected.select("outcome", "reason").iter_rows()]
        room = payloads - len(preview.payloads)
        if room > 0:
            valid = rows.filter(pl.col("outcome").is_null()).head(room)
            preview.payloads += [parse_lead(text) for text in valid["lead"].to_list()]
    preview.validation = dict(frames.counts)
    return preview


@task(name="push_to_campaign", **_TASK)
def push_to_campaign(
    credentials: InstantlyCredentials,
    warehouse: Warehouse,
    table: ExtractedTable,
    mapping: ColumnMapping,
    campaign: CampaignRef,
    *,
    run_id: str,
    skip_mode: str,
    batch_size: int,
    timeout: float = 30.0,
    listeners: Sequence[PushListener] = (),
    siblings: Sequence[str] = (),
) -> CampaignReport:
    """Push every row of `ops.<table>` to one campaign, exactly once, recording per-row outcomes.

    The ledger is keyed by the workspace's id (SPEC GET /workspaces/current), so a rotated key changes
    nothing; rows of this campaign written under an older workspace name are adopted first.

    Args:
        siblings: ids of the other campaigns of this push (or connected to the same table): under
            skip_if_in_campaign a lead that is only in these is still added.
    """
    with _listeners_lock:
        everyone = [*listeners, *_listeners]
    with _client(credentials, timeout) as client:
        workspace_id, workspace_name = workspace_identity(client, credentials)
        with warehouse.connect() as con:
            for attempt in warehouse.retrying():  # a DuckLake conflict with another push: run it again
                with attempt:
                    ledger.adopt_workspace(con, workspace_id, workspace_name, [campaign.id])
                    ledger.record_campaign_name(con, campaign.id, campaign.name)
        target = PushTarget(
            scope=LedgerScope(workspace_id, campaign.id, table.name, run_id),
            campaign_name=campaign.name,
            mapping=mapping,
            key_given=table.key_column is not None,
            place=table.place,
            row_count=table.row_count,
            skip_mode=skip_mode,
            siblings=frozenset(s for s in siblings if s != campaign.id),
            batch_size=batch_size,
        )
        report = CampaignPush(client, warehouse, target, everyone).run()
        report.requests_by_endpoint = dict(client.stats.by_endpoint)  # its client's all: the workspace's too
        return report


def workspace_identity(client: InstantlyClient, credentials: InstantlyCredentials) -> tuple[str, str | None]:
    """(id, name) of the key's workspace (SPEC GET /workspaces/current).

    A key without the `workspaces:read` scope cannot ask: the credentials' old name (base URL + key hash)
    stands in, with a warning that a key rotation will then look like a new workspace.

    Raises:
        OpsError: the API refused the key or could not be reached.
    """
    try:
        workspace = client.workspaces.current()
    except PermissionDeniedError:
        logging.getLogger(__name__).warning(
            "The API key cannot read its workspace (scope workspaces:read): the push ledger is keyed by the "
            "key itself, so a new key will look like a new workspace."
        )
        return credentials.workspace_key, None
    except InstantlyError as exc:
        raise OpsError(f"Cannot read the workspace of the API key: {exc.summary}", hint=exc.hint) from None
    return workspace.id, workspace.name


def _client(credentials: InstantlyCredentials, timeout: float) -> InstantlyClient:
    """The block's client (its global rate limit included), with this push's response timeout."""
    return credentials.get_client(timeout=timeout)


# -- Prefect artifacts --------------------------------------------------------------------------------


class ArtifactProgress:
    """A Prefect progress artifact (key `push-progress`) of one table's push, updated at most every
    `interval` seconds (thread-safe). Its description names the table: a run pushing several connected
    tables has one of these for each."""

    def __init__(self, table: str, total: int, campaigns: int, interval: float = 1.0) -> None:
        from prefect.artifacts import create_progress_artifact

        self.total = max(1, total * max(1, campaigns))
        self.interval = interval
        self._done: dict[str, int] = {}
        self._last = 0.0
        self._lock = threading.Lock()
        # Prefect's async_dispatch: called outside an event loop, it returns the artifact's id itself.
        self.artifact_id = cast(
            UUID,
            create_progress_artifact(
                progress=0.0,
                key="push-progress",
                description=f"Rows of ops.{table} pushed to {counted(campaigns, 'campaign')}.",
            ),
        )

    def on_progress(self, campaign: str, done: int, total: int) -> None:
        from prefect.artifacts import update_progress_artifact

        with self._lock:
            self._done[campaign] = done
            now = time.monotonic()
            if now - self._last < self.interval and sum(self._done.values()) < self.total:
                return
            self._last = now
            percent = min(100.0, 100.0 * sum(self._done.values()) / self.total)
        update_progress_artifact(artifact_id=self.artifact_id, progress=percent)


@dataclass
class TablePushReport:
    """The outcome of pushing one table to its campaigns."""

    table: ExtractedTable
    campaigns: list[CampaignReport]
    missing: list[MissingCampaign] = field(default_factory=list)  # campaigns not found: nothing sent to them

    def counts(self) -> dict[str, dict[str, int]]:
        """Outcome counts per campaign id."""
        return {r.campaign_id: dict(r.counts) for r in self.campaigns}


def batch_rows(tables: Sequence[TablePushReport], limit: int = 500) -> list[dict[str, Any]]:
    """Per-request counts for the table artifact (updates summed into one line per campaign)."""
    out: list[dict[str, Any]] = []
    for pushed in tables:
        for report in pushed.campaigns:
            updates: Counter[str] = Counter()
            patches = 0
            where = {"table": pushed.table.name, "campaign": report.campaign_name}
            for batch in report.batches:
                if batch.kind == "update":
                    updates.update(batch.counts)
                    patches += 1
                    continue
                counts: dict[str, int] = {k: batch.counts.get(k, 0) for k in _BATCH_COLUMNS}
                out.append({**where, "batch": batch.batch_id, "rows": batch.rows, **counts})
            if patches:
                counts = {k: updates.get(k, 0) for k in _BATCH_COLUMNS}
                out.append({**where, "batch": f"{patches} PATCH", "rows": patches, **counts})
    return out[:limit]


_BATCH_COLUMNS = tuple(o for o in OUTCOMES if o != "unchanged")  # a batch sends no unchanged row


def summary_markdown(tables: Sequence[TablePushReport], run_id: str, not_pushed: Sequence[str] = ()) -> str:
    """The markdown summary artifact: what was not pushed (one line each: a connected table and why, or the
    campaigns a table did not reach), outcomes per table and campaign, what to do about skipped rows, and
    the query that lists this run's per-row outcomes."""
    lines: list[str] = []
    if not_pushed:
        lines += ["# Not pushed", "", *[f"- {why}" for why in not_pushed], ""]
    for pushed in tables:
        lines += [
            f"# Push of `ops.{pushed.table.name}` ({counted(pushed.table.row_count, 'row')})",
            "",
            "| campaign | " + " | ".join(OUTCOMES) + " | requests | by kind | seconds |",
            "|---|" + "---:|" * (len(OUTCOMES) + 1) + "---|---:|",
        ]
        for r in pushed.campaigns:
            cells = " | ".join(f"{r.counts.get(o, 0):,}" for o in OUTCOMES)
            kinds = describe_requests(r.requests_by_kind())
            lines.append(f"| {r.campaign_name} | {cells} | {r.requests:,} | {kinds} | {r.seconds:.1f} |")
        lines.append("")
    reports = [r for pushed in tables for r in pushed.campaigns]
    lifted = [r for r in reports if r.guard_lifted]
    if lifted:
        names = ", ".join(f"{r.campaign_name} ({r.guard_lifted:,})" for r in lifted)
        lines += [
            f"**Added although already in another campaign of this push:** {names}; skip_if_in_campaign "
            "skips only leads in campaigns outside this push.",
            "",
        ]
    earlier = [r for r in reports if r.created_earlier]
    if earlier:
        names = ", ".join(f"{r.campaign_name} ({r.created_earlier:,})" for r in earlier)
        lines += [
            f"**Of the created, sent by an interrupted earlier run** and found by a lookup, not sent again: "
            f"{names}.",
            "",
        ]
    if any(r.counts.get("skipped") for r in reports):
        lines += [f"**Skipped rows:** {skip_hint()}.", ""]
    if any(r.already_in_campaign for r in reports):  # not rows repeating a row of the table
        lines += [f"**Already in the campaign:** {duplicate_hint()}.", ""]
    if any(r.unresolved for r in reports):
        lines += [
            "**Some outcomes are still unknown** (timeouts or 5xx); run the push again to reconcile.",
            "",
        ]
    if not tables:
        return "\n".join(lines)
    lines += [
        f"Per-row outcomes of this run (`{run_id}`), in the warehouse:",
        "",
        "```sql",
        f"SELECT * FROM ops.push_results WHERE run_id = '{run_id}'",
        "```",
    ]
    return "\n".join(lines)


@task(name="publish_push_artifacts", **_TASK)
def publish_push_artifacts(
    tables: Sequence[TablePushReport], run_id: str, not_pushed: Sequence[str] = ()
) -> None:
    """A table artifact of per-request counts and a markdown summary artifact, on the flow run that
    called this task (the run the user launched). `not_pushed`: one line per connected table whose push
    failed (``table: why``) or table pushed to only some of its campaigns, listed first."""
    from prefect.artifacts import create_markdown_artifact, create_table_artifact

    rows = batch_rows(tables)
    if rows:
        create_table_artifact(table=rows, key="push-batches", description="Counts per request of this push.")
    create_markdown_artifact(
        markdown=summary_markdown(tables, run_id, not_pushed), key="push-summary", description="Push summary."
    )


@task(name="publish_dry_run", **_TASK)
def publish_dry_run(preview: DryRunPreview) -> None:
    """A markdown artifact with the detected mapping, the validation summary and the first payloads."""
    import json

    from prefect.artifacts import create_markdown_artifact

    lines = [f"# Dry run of `ops.{preview.table}` ({counted(preview.rows, 'row')}): nothing sent", ""]
    lines += ["| column | to |", "|---|---|", *[f"| {c} | {t} |" for c, t in preview.mapping]]
    lines += ["", "## Validation", ""]
    lines += [f"- {k}: {v:,}" for k, v in sorted(preview.validation.items())]
    lines += ["", *[f"- {e}" for e in preview.examples], "", "## First payloads", "", "```json"]
    lines += [json.dumps(p, indent=2, ensure_ascii=False) for p in preview.payloads] + ["```"]
    create_markdown_artifact(markdown="\n".join(lines), key="push-dry-run", description="Push dry run.")
