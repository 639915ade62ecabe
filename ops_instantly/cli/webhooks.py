"""`ops-instantly webhooks`: subscribe Instantly webhooks, receive them durably, ingest them into the warehouse."""

from __future__ import annotations

import logging
import os
from datetime import date, datetime
from typing import TYPE_CHECKING

import typer

from ops_instantly.cli._app import app
from ops_instantly.cli._json import JSON_OPTION, as_returned, print_json
from ops_instantly.cli._support import (
    CREDENTIALS_OPTION,
    WAREHOUSE_HELP,
    api_errors,
    load_credentials,
    open_client,
    require_prefect_api,
    run_flow,
)
from ops_instantly.errors import OpsError

if TYPE_CHECKING:
    from flows.ingest_webhook_events import IngestResult

webhooks_app = typer.Typer(
    help="Near-real-time events: subscribe, receive (durable spool), ingest and replay Instantly webhooks.\n\n"
    "Example: ops-instantly webhooks listen --port 8800",
    no_args_is_help=True,
)
app.add_typer(webhooks_app, name="webhooks")

SECRET_BLOCK = "ops-instantly-webhook"
SECRET_BLOCK_HELP = "Prefect Secret block holding the shared secret (created by `webhooks subscribe`)."
SECRET_ENV_HELP = "Environment variable that, when set, holds the shared secret instead of the block."
SPOOL_HELP = "Spool directory (default: OPS_WEBHOOK_SPOOL or ./webhook-spool); listen and ingest must agree."


@webhooks_app.command("listen")
def listen(
    port: int = typer.Option(8800, min=0, max=65535, help="Port to listen on (0: a free port)."),
    host: str = typer.Option(
        "127.0.0.1", help="Interface; put a TLS reverse proxy in front (docs/webhooks.md)."
    ),
    spool: str | None = typer.Option(None, help=SPOOL_HELP, metavar="DIR"),
    secret_block: str = typer.Option(SECRET_BLOCK, help=SECRET_BLOCK_HELP, metavar="BLOCK"),
    secret_env: str = typer.Option("OPS_WEBHOOK_SECRET", help=SECRET_ENV_HELP, metavar="VAR"),
    insecure: bool = typer.Option(False, help="Accept deliveries without the secret header (tests only)."),
    max_body: int = typer.Option(
        1024 * 1024, min=1024, help="Largest body accepted, in bytes (larger: 413)."
    ),
    log_level: str = typer.Option("warning", help="uvicorn log level (refusals are logged at warning)."),
) -> None:
    """Receive deliveries into the durable spool; `webhooks ingest` (or its deployment) loads them.

    Each delivery is answered 200 only once it is fsync'd in the spool; the warehouse is never opened here,
    so a sync holding it does not slow the receiver.

    Example: ops-instantly webhooks listen --port 8800
    """
    from webhooks.receiver import WEBHOOK_PATH, bind, create_app, serve
    from webhooks.spool import default_spool_dir

    # Refusals and spool errors as timestamped lines on stderr (never a header value: see webhooks/receiver.py).
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=logging.WARNING)
    secret = None if insecure else _listen_secret(secret_env, secret_block)
    directory = os.path.expanduser(spool) if spool else default_spool_dir()
    try:
        sock = bind(host, port)
    except OSError as exc:
        raise OpsError(f"Cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    bound_port = sock.getsockname()[1]
    url = f"http://{host}:{bound_port}{WEBHOOK_PATH}"
    app_ = create_app(directory, secret=secret, max_body=max_body)

    def ready() -> None:
        typer.echo(f"Listening on {url} (spool {os.path.abspath(directory)}; Ctrl-C to stop)")

    def stopped() -> None:
        counts = app_.state.counts
        typer.echo(f"Stopped: {counts['accepted']} deliveries accepted, {counts['rejected']} refused.")

    serve(app_, sock, log_level=log_level, on_ready=ready, on_stop=stopped)


@webhooks_app.command("ingest")
def ingest(
    spool: str | None = typer.Option(None, help=SPOOL_HELP, metavar="DIR"),
    warehouse: str | None = typer.Option(None, help=WAREHOUSE_HELP, metavar="PATH"),
    catch_up: bool = typer.Option(False, "--catch-up", help="Also recover failed deliveries (delivery log)."),
    credentials: str | None = CREDENTIALS_OPTION,
) -> None:
    """Load closed spool segments into instantly.webhook_events (once each) and refresh the engagement views.

    Example: ops-instantly webhooks ingest
    """
    from flows.ingest_webhook_events import ingest_webhook_events

    result = run_flow(
        ingest_webhook_events,
        spool_dir=spool or "",
        warehouse=warehouse or "",
        credentials=load_credentials(credentials) if catch_up else None,
        catch_up=catch_up,
    )
    _print_ingest(result)


@webhooks_app.command("replay")
def replay(
    since: str | None = typer.Option(
        None, help="Read the delivery log from this date (YYYY-MM-DD).", metavar="DATE"
    ),
    spool: str | None = typer.Option(None, help=SPOOL_HELP, metavar="DIR"),
    warehouse: str | None = typer.Option(None, help=WAREHOUSE_HELP, metavar="PATH"),
    credentials: str | None = CREDENTIALS_OPTION,
) -> None:
    """Recover deliveries Instantly failed to make (its delivery log) since the last watermark, then ingest.

    Example: ops-instantly webhooks replay --since 2026-11-01
    """
    from flows.ingest_webhook_events import ingest_webhook_events

    result = run_flow(
        ingest_webhook_events,
        spool_dir=spool or "",
        warehouse=warehouse or "",
        credentials=load_credentials(credentials),
        catch_up=True,
        catch_up_since=_date(since).isoformat() if since else "",
    )
    _print_ingest(result)


@webhooks_app.command("subscribe")
def subscribe(
    url: str = typer.Option(
        ...,
        help="Public https URL of the receiver (…/instantly/webhook); http:// is warned about, except on loopback.",
    ),
    event: list[str] | None = typer.Option(
        None,
        "--event",
        help="Event type (repeatable; default all_events), e.g. reply_received.",
        metavar="TYPE",
    ),
    campaign: str | None = typer.Option(None, help="Campaign id or name (default: every campaign)."),
    name: str = typer.Option("ops-instantly", help="Subscription name."),
    secret_block: str = typer.Option(SECRET_BLOCK, help=SECRET_BLOCK_HELP, metavar="BLOCK"),
    credentials: str | None = CREDENTIALS_OPTION,
) -> None:
    """Subscribe the receiver: idempotent (the same URL and event is reused or updated, never duplicated).

    The shared secret is generated once and stored in a Prefect Secret block; it is never printed.

    Example: ops-instantly webhooks subscribe --url https://hooks.example.com/instantly/webhook
    """
    from tasks.campaign_summary import find_campaign
    from webhooks.subscriptions import ensure_secret, plain_http_warning, subscribe

    warning = plain_http_warning(url)
    if warning:
        typer.echo(warning, err=True)
    events = event or ["all_events"]
    require_prefect_api()
    secret, created = ensure_secret(secret_block)
    with api_errors(), open_client(credentials) as client:
        campaign_id = find_campaign(client, campaign).id if campaign else None
        for outcome in subscribe(
            client, url=url, events=events, campaign_id=campaign_id, name=name, secret=secret
        ):
            typer.echo(f"{outcome.action.capitalize()} {outcome.webhook_id}: {outcome.event_type} -> {url}")
            for extra in outcome.duplicates:
                typer.echo(
                    f"  note: {extra} also sends {outcome.event_type} to this URL (`webhooks delete {extra}`)"
                )
    where = "generated and stored in" if created else "taken from"
    typer.echo(f"Shared secret {where} the Prefect Secret block {secret_block!r} (not shown).")


@webhooks_app.command("list")
def list_hooks(credentials: str | None = CREDENTIALS_OPTION, json_: bool = JSON_OPTION) -> None:
    """List webhook subscriptions with their status (headers are never shown, not even with --json).

    Example: ops-instantly webhooks list --json
    """
    with api_errors(), open_client(credentials) as client:
        hooks = list(client.webhooks.list())
    if json_:
        # The headers carry the shared secret (SECRET_HEADER): never printed.
        print_json([{k: v for k, v in as_returned(h).items() if k != "headers"} for h in hooks])
        return
    for hook in hooks:
        state = "disabled" if hook.status == -1 else "active"
        typer.echo(f"{hook.id}  {hook.event_type or 'custom'}  {hook.target_hook_url}  {state}")


@webhooks_app.command("test")
def test_hook(
    webhook_id: str = typer.Argument(..., help="Webhook id (see `webhooks list`)."),
    credentials: str | None = CREDENTIALS_OPTION,
) -> None:
    """Ask Instantly to send a test delivery (SPEC POST /webhooks/{id}/test) and report the answer.

    Example: ops-instantly webhooks test 019a...
    """
    with api_errors(), open_client(credentials) as client:
        result = client.webhooks.test(webhook_id)
    detail = f"HTTP {result.status_code}, {result.response_time_ms} ms"
    if not result.success:
        raise OpsError(f"Test delivery failed ({detail}): {result.error or result.message}")
    typer.echo(f"Test delivery answered ({detail}).")


@webhooks_app.command("resume")
def resume_hook(
    webhook_id: str = typer.Argument(..., help="Webhook id (see `webhooks list`)."),
    credentials: str | None = CREDENTIALS_OPTION,
) -> None:
    """Re-enable a webhook Instantly disabled after failed deliveries (SPEC POST /webhooks/{id}/resume).

    Run `webhooks replay` afterwards to recover what failed meanwhile.

    Example: ops-instantly webhooks resume 019a...
    """
    with api_errors(), open_client(credentials) as client:
        hook = client.webhooks.resume(webhook_id)
    typer.echo(f"Resumed {hook.id}: {'active' if hook.status != -1 else 'still disabled'}")


@webhooks_app.command("delete")
def delete_hook(
    webhook_id: str = typer.Argument(..., help="Webhook id."),
    credentials: str | None = CREDENTIALS_OPTION,
) -> None:
    """Delete a webhook subscription.

    Example: ops-instantly webhooks delete 019a...
    """
    with api_errors(), open_client(credentials) as client:
        client.webhooks.delete(webhook_id)
    typer.echo(f"Deleted {webhook_id}")


def _listen_secret(secret_env: str, secret_block: str) -> str:
    value = os.environ.get(secret_env)
    if value:
        return value
    from webhooks.subscriptions import load_secret

    require_prefect_api()
    found = load_secret(secret_block)
    if not found:
        raise OpsError(
            f"No webhook secret: {secret_env} is not set and there is no Prefect Secret block {secret_block!r}.",
            hint="run `ops-instantly webhooks subscribe --url ...` (it creates the block), or set the variable",
        )
    return found


def _print_ingest(result: IngestResult) -> None:
    if result.status == "busy":
        typer.echo(
            "The warehouse is busy (another run or session holds it): the spool waits for the next ingest."
        )
        return
    spool = result.spool
    held = spool.get("held_in")
    typer.echo(
        f"spool: {spool.get('segments', 0)} segments, {spool.get('events', 0)} events, {spool.get('new', 0)} new"
        + (
            f", {spool.get('held', 0)} that cannot be loaded kept in {', '.join(map(str, held))} (see the "
            "warnings; rename a file to .closed to load it again)"
            if isinstance(held, list) and held
            else ""
        )
    )
    if result.catch_up is not None:
        skipped = result.catch_up.get("skipped")
        if isinstance(skipped, list) and skipped:
            typer.echo(f"catch-up skipped: {skipped[0]}")
        else:
            typer.echo(
                f"catch-up: {result.catch_up.get('recovered_failed', 0)} failed deliveries read, "
                f"{result.catch_up.get('recovered_new', 0)} new"
            )


def _date(text: str) -> date:
    try:
        return datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError:
        raise OpsError(f"--since {text!r} is not a date.", hint="use YYYY-MM-DD, e.g. 2026-01-31") from None
