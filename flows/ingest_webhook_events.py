"""ingest_webhook_events: spooled webhook deliveries into the warehouse, every minute; optionally the catch-up.

Example:
    ```python
    from flows.ingest_webhook_events import ingest_webhook_events

    ingest_webhook_events(spool_dir="./webhook-spool", warehouse="./warehouse.duckdb")
    ```
"""

from __future__ import annotations

import uuid
from pathlib import Path

from prefect import flow, get_run_logger, runtime
from pydantic import BaseModel
from pydantic.json_schema import SkipJsonSchema

from blocks import InstantlyCredentials, resolve_credentials, resolve_warehouse
from flows._parameters import TextWithoutPassword
from ops_core.errors import OpsError
from ops_core.interface import set_option
from ops_core.parsing import parse_day
from tasks.push import workspace_identity
from tasks.webhook_events import (
    CATCH_UP_COUNTS,
    IngestCounts,
    disabled_webhooks,
    ingest_spool,
    replay_failed_deliveries,
)
from warehouse.db import WarehouseLockedError
from warehouse.lock import WarehouseBusyError
from webhooks.spool import default_spool_dir

__all__ = ["FLOW_NAME", "IngestResult", "ingest_webhook_events"]

FLOW_NAME = "ingest-webhook-events"


def describe_counts(counts: dict[str, object]) -> str:
    """`2 segments, 1 event, 1 new, torn 1` for a log line, lists as `held_in a.held, b.held` (pure)."""
    first = ("segments", "events", "new")
    words = [f"{n} {k.removesuffix('s') if n == 1 else k}" for k in first for n in [counts.get(k, 0)]]
    words += [
        f"{k} {', '.join(map(str, v)) if isinstance(v, list) else v}"
        for k, v in counts.items()
        if k not in first
    ]
    return ", ".join(words)


class IngestResult(BaseModel):
    """What a run did: `status` is `ingested` or `busy` (the warehouse was locked; the spool waits)."""

    run_id: str
    status: str
    spool: dict[str, object]
    catch_up: dict[str, object] | None = None


@flow(name=FLOW_NAME, log_prints=True)
def ingest_webhook_events(
    spool_dir: str = "",
    warehouse: TextWithoutPassword = "",
    credentials: InstantlyCredentials | SkipJsonSchema[None] = None,
    catch_up: bool = False,
    catch_up_since: str = "",
    lock_timeout_seconds: float = 20.0,
    keep_done_days: float = 7.0,
) -> IngestResult:
    """Move closed spool segments into `instantly.webhook_events` (once each) and refresh the engagement views.

    Args:
        spool_dir: The webhook receiver's spool directory. Empty: OPS_WEBHOOK_SPOOL, or ./webhook-spool.
        warehouse: The warehouse file or DuckLake URL, without a password (PGPASSWORD or ~/.pgpass on the worker).
            Empty: OPS_WAREHOUSE on the worker, or ./warehouse.duckdb.
        credentials: The Instantly workspace, for the catch-up. Empty: the block named by OPS_CREDENTIALS_BLOCK on the worker, else its INSTANTLY_API_KEY, else the block named default.
        catch_up: Also recover failed deliveries from Instantly's delivery log (SPEC GET /webhook-events).
        catch_up_since: Read the delivery log from this day on (YYYY-MM-DD) instead of the last watermark.
        lock_timeout_seconds: How long to wait for another process's warehouse write lock; when it is not
            released in time the run ends `busy` and the next run takes the segments.
        keep_done_days: How long ingested segments stay on disk, in days.

    Returns:
        The counts of the spool ingest and, with `catch_up`, of the catch-up.
    """
    logger = get_run_logger()
    run_id = str(runtime.flow_run.id or uuid.uuid4())
    store = resolve_warehouse(None, warehouse or None)
    store.lock_timeout = lock_timeout_seconds
    spool = (Path(spool_dir).expanduser() if spool_dir else default_spool_dir()).absolute()
    since = parse_day(catch_up_since, "catch_up_since")  # a bad date fails before anything is read
    if not spool.is_dir():
        # The receiver creates its spool when it starts: a folder that is not there is another folder than
        # the receiver's (a relative path taken from another working directory, a typo), and every
        # delivery it accepts would wait there unseen while these runs stay green.
        missing = f"No webhook spool at {spool}"
        hint = (
            f"the receiver creates it when it starts: {set_option('spool_dir', metavar='DIR')} (or "
            "OPS_WEBHOOK_SPOOL) naming the folder `ops-instantly webhooks listen` prints as its spool"
        )
        if not catch_up:
            raise OpsError(f"{missing}.", hint=hint)
        logger.warning("%s: only the catch-up runs (%s).", missing, hint)
    try:
        spooled = ingest_spool(store, spool, run_id=run_id, keep_done_days=keep_done_days)
        recovered: IngestCounts | None = None
        if catch_up:
            creds = resolve_credentials(credentials)
            with creds.get_client() as client:
                workspace, _ = workspace_identity(client, creds)  # the watermark survives a new key
                recovered = replay_failed_deliveries(
                    client,
                    store,
                    workspace=workspace,
                    run_id=run_id,
                    since=since,
                )
                if not recovered.skipped:  # the workspace has webhooks: say which Instantly disabled
                    first = next(client.webhooks.pages(), None)
                    for line in disabled_webhooks(first.items if first else []):
                        logger.warning(line)
    except (WarehouseBusyError, WarehouseLockedError):
        logger.warning(
            "The warehouse stayed locked for %ss: the spool waits for the next run.", lock_timeout_seconds
        )
        return IngestResult(run_id=run_id, status="busy", spool={"segments_waiting": True})
    logger.info("Webhook ingest of %s: %s", spool, describe_counts(spooled.as_dict()))
    return IngestResult(
        run_id=run_id,
        status="ingested",
        spool=spooled.as_dict(),
        catch_up=recovered.as_dict(always=CATCH_UP_COUNTS) if recovered else None,
    )
