"""Webhook events into the warehouse: closed spool segments, and failed deliveries from Instantly's log.

Both paths write `instantly.webhook_events` keyed by the content hash (`webhooks.events.event_id`), so the
same event from the spool, a re-delivery and the delivery log lands once. The engagement views read the
table at query time (warehouse/views.py), so a committed event shows in `ops.<table>_engagement` at once.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
from prefect import task
from prefect.cache_policies import NO_CACHE

from blocks.instantly import InstantlyCredentials
from instantly_client import InstantlyClient, Webhook
from instantly_client.errors import InstantlyError
from ops_core.errors import OpsError, first_line
from tasks.push import workspace_identity
from warehouse.db import Warehouse
from warehouse.merge import insert_missing
from warehouse.views import create_engagement_views
from webhooks.events import COLUMNS, canonical_json, event_id, parse_timestamp, to_row
from webhooks.spool import held_path, hold_lines, mark_done, prune_done, read_segment, ready_segments

log = logging.getLogger(__name__)

SOURCE_RECEIVER = "receiver"
SOURCE_DELIVERY_LOG = "delivery_log"
FIRST_CATCHUP_DAYS = 7  # how far back the first catch-up of a workspace reads the delivery log
CATCH_UP_COUNTS = ("recovered_failed", "recovered_new")
MAX_SEGMENTS_PER_RUN = 500  # bounds one transaction (segments hold up to 5,000 events each)

_ARROW_SCHEMA = pa.schema(
    [
        ("event_key", pa.string()),
        ("event_type", pa.string()),
        ("event_kind", pa.string()),
        ("event_at", pa.timestamp("us", tz="UTC")),
        ("campaign_id", pa.string()),
        ("campaign_name", pa.string()),
        ("lead_email", pa.string()),
        ("email_account", pa.string()),
        ("email_id", pa.string()),
        ("step", pa.int32()),
        ("variant", pa.int32()),
        ("reply_subject", pa.string()),
        ("reply_text", pa.string()),
        ("payload", pa.string()),
        ("received_at", pa.timestamp("us", tz="UTC")),
        ("source", pa.string()),
        ("_loaded_at", pa.timestamp("us", tz="UTC")),
        ("_run_id", pa.string()),
    ]
)
assert tuple(_ARROW_SCHEMA.names) == COLUMNS


@dataclass
class Delivered:
    """One event to load: the payload, when it was received and where it came from (a spool line or none)."""

    payload: Mapping[str, Any]
    received_at: datetime
    source: str
    origin: tuple[Path, int] | None = None  # the spool segment and its line (1-based)


@dataclass
class IngestCounts:
    """What one ingest did (JSON-friendly via `as_dict`)."""

    segments: int = 0
    events: int = 0
    new: int = 0
    torn: int = 0
    unreadable: int = 0
    held: int = 0
    recovered_failed: int = 0
    recovered_new: int = 0
    pruned: int = 0
    skipped: list[str] = field(default_factory=list)
    held_in: list[str] = field(default_factory=list)

    def as_dict(self, always: tuple[str, ...] = ("segments", "events", "new")) -> dict[str, Any]:
        """The non-zero counts, plus those named in `always`."""
        return {k: v for k, v in self.__dict__.items() if v or k in always}


@dataclass
class Prepared:
    """Events as rows of `instantly.webhook_events` (one per content hash), and those that cannot be one."""

    rows: list[tuple[Delivered, dict[str, Any]]] = field(default_factory=list)
    refused: list[tuple[Delivered, str]] = field(default_factory=list)
    whole: pa.Table | None = None  # all rows, built once

    def table(self, only: Path | None = None) -> pa.Table:
        """The rows as an Arrow table; `only`: those from that spool segment."""
        if only is None and self.whole is not None:
            return self.whole
        picked = [r for e, r in self.rows if only is None or (e.origin is not None and e.origin[0] == only)]
        return pa.Table.from_pylist(picked, schema=_ARROW_SCHEMA)


def prepare_events(events: Iterable[Delivered], *, run_id: str, loaded_at: datetime) -> Prepared:
    """Rows for events not seen earlier in the batch (first receipt wins); an event that cannot become a row
    for any reason is refused with the reason, alone: it never stops the others (pure)."""
    prepared, seen = Prepared(), set()
    for event in events:
        try:
            key = event_id(event.payload)
            if key in seen:
                continue
            row = to_row(
                event.payload,
                received_at=event.received_at,
                source=event.source,
                loaded_at=loaded_at,
                run_id=run_id,
            )
            named = dict(zip(COLUMNS, row, strict=True))
        except Exception as exc:  # noqa: BLE001 - one event must not block the rest, whatever it holds
            prepared.refused.append((event, _reason(exc)))
            continue
        seen.add(key)
        prepared.rows.append((event, named))
    try:
        prepared.whole = prepared.table()
    except Exception:  # noqa: BLE001 - a value Arrow (so the column) cannot hold: find its rows, one by one
        rows, prepared.rows = prepared.rows, []
        for event, named in rows:
            try:
                pa.Table.from_pylist([named], schema=_ARROW_SCHEMA)
            except Exception as exc:  # noqa: BLE001
                prepared.refused.append((event, _reason(exc)))
                continue
            prepared.rows.append((event, named))
        prepared.whole = prepared.table()
    return prepared


def _reason(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {first_line(exc)}"


def insert_events(con: duckdb.DuckDBPyConnection, events: Iterable[Delivered], run_id: str) -> int:
    """Insert events not yet stored (by content hash), inside the caller's transaction. Returns how many were new.

    An event that cannot become a row is skipped with a warning (the delivery log still holds it).
    """
    prepared = prepare_events(events, run_id=run_id, loaded_at=datetime.now(UTC))
    for event, reason in prepared.refused:
        log.warning(
            "webhook event received %s not loaded (%s): %s",
            event.received_at,
            reason,
            canonical_json(event.payload)[:200],
        )
    return _insert(con, prepared.table())


@task(name="ingest_spool", retries=0, cache_policy=NO_CACHE)
def ingest_spool(
    warehouse: Warehouse, spool_dir: Path, *, run_id: str, keep_done_days: float
) -> IngestCounts:
    """Load closed spool segments in one transaction, then mark them done (only after the commit).

    A line that cannot become a row (`prepare_events`) is copied to `<segment>-held.held` first, with a warning
    naming it: the rest loads. When the warehouse refuses the batch, each segment is loaded in its own
    transaction, so only the segment it refuses waits (the error names it). A crash between a commit and the
    renames re-reads those segments next time: the content hash makes that harmless. Raises
    `WarehouseBusyError` / `WarehouseLockedError` when the warehouse is not free within its `lock_timeout`;
    nothing is marked then.
    """
    counts = IngestCounts()
    paths = ready_segments(spool_dir)[:MAX_SEGMENTS_PER_RUN]
    if paths:
        events: list[Delivered] = []
        for path in paths:
            segment = read_segment(path)
            counts.torn += segment.torn
            counts.unreadable += segment.unreadable
            events += [
                Delivered(p, at, SOURCE_RECEIVER, (path, line))
                for (at, p), line in zip(segment.records, segment.lines, strict=True)
            ]
        counts.segments, counts.events = len(paths), len(events)
        prepared = prepare_events(events, run_id=run_id, loaded_at=datetime.now(UTC))
        counts.held, counts.held_in = len(prepared.refused), _hold(prepared.refused)
        try:
            counts.new = _load_in_one(warehouse, prepared.table())
            loaded = paths
        except duckdb.Error as exc:  # the warehouse refused something: find the segment, load the others
            if len(paths) > 1:
                log.warning(
                    "Loading %d webhook spool segments at once failed (%s): loading them one at a time",
                    len(paths),
                    first_line(exc),
                )
            counts.new, loaded = _load_each(warehouse, prepared, paths)
        for path in loaded:
            with contextlib.suppress(FileNotFoundError):  # a concurrent ingest got there first
                mark_done(path)
    counts.pruned = prune_done(spool_dir, keep_days=keep_done_days)
    return counts


def _hold(refused: list[tuple[Delivered, str]]) -> list[str]:
    """Copy the refused spool lines to `<segment>-held.held` (before the commit); one warning per line."""
    by_segment: dict[Path, list[int]] = {}
    for event, reason in refused:
        assert event.origin is not None
        path, line = event.origin
        by_segment.setdefault(path, []).append(line)
        log.warning(
            "webhook spool %s line %d cannot be loaded (%s): kept in %s",
            path.name,
            line,
            reason,
            held_path(path).name,
        )
    return [str(hold_lines(path, lines)) for path, lines in by_segment.items()]


def _load_in_one(warehouse: Warehouse, table: pa.Table) -> int:
    for attempt in warehouse.transactions():
        with attempt as con:
            new = _insert(con, table)
            if new:
                create_engagement_views(con)  # views made before 0007 learn the webhook overlay
    return new


def _load_each(warehouse: Warehouse, prepared: Prepared, paths: list[Path]) -> tuple[int, list[Path]]:
    """Each segment in its own transaction; raises, naming the first segment refused, after loading the rest."""
    new, loaded, failed = 0, [], []
    for path in paths:
        try:
            new += _load_in_one(warehouse, prepared.table(only=path))
        except duckdb.Error as exc:
            failed.append((path, first_line(exc)))
            continue
        loaded.append(path)
    if failed:
        for path in loaded:
            with contextlib.suppress(FileNotFoundError):
                mark_done(path)
        path, reason = failed[0]
        raise OpsError(
            f"Loading webhook spool segment {path} failed, it waits in the spool ({len(failed)} segment(s) "
            f"waiting, {len(loaded)} loaded with {new} new events): {reason}"
        )
    return new, loaded


@task(name="replay_failed_deliveries", retries=0, cache_policy=NO_CACHE)
def replay_failed_deliveries(
    client: InstantlyClient, warehouse: Warehouse, *, workspace: str, run_id: str, since: date | None = None
) -> IngestCounts:
    """Recover deliveries Instantly could not make (SPEC GET /webhook-events?success=false) since the watermark.

    Reads the delivery log from the day of the newest failed delivery already recovered (`from` is a date,
    inclusive), or from `since`, or `FIRST_CATCHUP_DAYS` ago on the first run; loads their payloads and moves
    the watermark in one transaction. A workspace without webhooks (no plan, 402/403/404) is skipped.
    """
    counts = IngestCounts()
    with warehouse.connect() as con:
        rows = con.execute(
            "SELECT last_event_created FROM ops.webhook_catchup WHERE workspace = ?", [workspace]
        ).fetchall()
    watermark: datetime | None = rows[0][0] if rows else None
    start = since or (
        # SPEC `from` is a UTC date; DuckDB hands TIMESTAMPTZ back in the session's time zone.
        watermark.astimezone(UTC).date()
        if watermark
        else datetime.now(UTC).date() - timedelta(FIRST_CATCHUP_DAYS)
    )
    events: list[Delivered] = []
    newest = watermark
    try:
        for logged in client.webhook_events.list(success=False, from_date=start):
            created = parse_timestamp(logged.timestamp_created)
            if not logged.payload or created is None:
                continue
            events.append(Delivered(logged.payload, created, SOURCE_DELIVERY_LOG))
            newest = created if newest is None or created > newest else newest
    except InstantlyError as exc:
        if exc.status_code in (402, 403, 404):
            reason = f"delivery log unavailable (HTTP {exc.status_code}): webhooks need a plan that has them"
            log.warning("webhook catch-up skipped: %s", reason)
            counts.skipped.append(reason)
            return counts
        raise
    counts.recovered_failed = len(events)

    with _loading():
        for attempt in warehouse.transactions():
            with attempt as con:
                new = insert_events(con, events, run_id)
                if newest is not None:
                    con.execute(
                        "MERGE INTO ops.webhook_catchup AS t USING (SELECT * FROM (VALUES (?, ?, ?, ?)) "
                        "AS v(workspace, last_event_created, checked_at, recovered)) AS s "
                        "ON t.workspace = s.workspace WHEN MATCHED THEN UPDATE SET "
                        "last_event_created = greatest(t.last_event_created, s.last_event_created), "
                        "checked_at = s.checked_at, recovered = t.recovered + s.recovered "
                        "WHEN NOT MATCHED THEN INSERT VALUES (s.workspace, s.last_event_created, s.checked_at, "
                        "s.recovered)",
                        [workspace, newest, datetime.now(UTC), new],
                    ).fetchall()
                if new:
                    create_engagement_views(con)
    counts.recovered_new = new
    return counts


def catch_up_webhooks(
    credentials: InstantlyCredentials, warehouse: Warehouse, *, run_id: str
) -> dict[str, Any]:
    """The sync's catch-up: recover failed deliveries when the workspace has webhooks; never fails the sync.

    `GET /webhooks` (one page) tells whether there is anything to catch up; without webhooks (or without the
    plan for them) nothing else is called. Webhooks Instantly disabled after failed deliveries are reported
    under `disabled` (`disabled_webhooks`): nothing reaches the receiver until they are resumed, and the
    delivery log holds only the attempts that failed, not the events since. Any failure is logged and
    reported in the counts: the `ingest-webhook-events` deployment or `webhooks replay` can catch up later.
    """
    try:
        with credentials.get_client() as client:
            first = next(client.webhooks.pages(), None)
            hooks = first.items if first else []
            if not hooks:
                return {"skipped": ["no webhooks subscribed"]}
            disabled = disabled_webhooks(hooks)
            workspace, _ = workspace_identity(client, credentials)
            counts = replay_failed_deliveries(client, warehouse, workspace=workspace, run_id=run_id)
    except InstantlyError as exc:
        if exc.status_code in (402, 403, 404):
            return {"skipped": [f"webhooks unavailable (HTTP {exc.status_code})"]}
        log.warning("webhook catch-up failed, the next run retries: %s", exc)
        return {"failed": str(exc).splitlines()[0]}
    except OpsError as exc:  # the warehouse stayed locked, or the load failed (nothing changed)
        log.warning("webhook catch-up failed, the next run retries: %s", exc)
        return {"failed": exc.message}
    return {**counts.as_dict(always=CATCH_UP_COUNTS), **({"disabled": disabled} if disabled else {})}


def disabled_webhooks(hooks: Iterable[Webhook]) -> list[str]:
    """One line per webhook Instantly disabled (status -1) after failed deliveries, saying how to resume it (pure)."""
    lines = []
    for hook in hooks:
        if hook.status != -1:
            continue
        since = f" since {hook.timestamp_error}" if hook.timestamp_error else ""
        lines.append(
            f"Instantly disabled webhook {hook.id} ({hook.target_hook_url}){since} after failed deliveries: "
            f"nothing reaches the receiver until `ops-instantly webhooks resume {hook.id}` (then `webhooks "
            "replay`); events meanwhile come only with the syncs"
        )
    return lines


def _insert(con: duckdb.DuckDBPyConnection, batch: pa.Table) -> int:
    if not batch.num_rows:
        return 0
    before = _count(con)
    con.register("_webhook_batch", batch)
    try:
        insert_missing(con, "instantly.webhook_events", ["event_key"], COLUMNS, "_webhook_batch")
    finally:
        con.unregister("_webhook_batch")
    return _count(con) - before


@contextlib.contextmanager
def _loading() -> Iterator[None]:
    """A DuckDB failure inside a load (rolled back by `Warehouse.transaction`) as one line."""
    try:
        yield
    except duckdb.Error as exc:
        first = first_line(exc)
        raise OpsError(f"Loading webhook events failed, nothing was changed: {first}") from exc


def _count(con: duckdb.DuckDBPyConnection) -> int:
    return int(con.execute("SELECT count(*) FROM instantly.webhook_events").fetchall()[0][0])
