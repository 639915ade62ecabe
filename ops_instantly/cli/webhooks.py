"""`ops-instantly webhooks`: subscribe Instantly webhooks and receive them into the warehouse."""

from __future__ import annotations

import os

import typer

from ops_instantly.cli._app import app
from ops_instantly.cli._json import JSON_OPTION, as_returned, print_json
from ops_instantly.errors import OpsError

webhooks_app = typer.Typer(
    help="Near-real-time events: subscribe and receive Instantly webhooks.\n\n"
    "Example: ops-instantly webhooks listen --port 8800",
    no_args_is_help=True,
)
app.add_typer(webhooks_app, name="webhooks")

SECRET_ENV_HELP = "Environment variable holding the shared secret (never passed as a flag value)."


def _secret(env_name: str, *, required: bool) -> str | None:
    value = os.environ.get(env_name) or None
    if required and not value:
        raise OpsError(f"{env_name} is not set.", hint=f"export {env_name}=<a long random string>")
    return value


@webhooks_app.command("listen")
def listen(
    port: int = typer.Option(8800, min=0, max=65535, help="Port to listen on."),
    host: str = typer.Option("127.0.0.1", help="Interface (put a TLS proxy in front for Instantly)."),
    secret_env: str = typer.Option("OPS_WEBHOOK_SECRET", help=SECRET_ENV_HELP),
    insecure: bool = typer.Option(False, help="Accept deliveries without the secret header."),
    warehouse: str | None = typer.Option(
        None, help="DuckDB file (default OPS_WAREHOUSE or ./warehouse.duckdb)."
    ),
) -> None:
    """Receive webhook deliveries into instantly.webhook_events (deduplicated).

    Example: OPS_WEBHOOK_SECRET=s3cret ops-instantly webhooks listen --port 8800
    """
    from blocks import resolve_warehouse
    from ops_instantly.webhooks import WebhookReceiver

    secret = None if insecure else _secret(secret_env, required=True)
    try:
        receiver = WebhookReceiver(resolve_warehouse(path=warehouse), secret=secret, host=host, port=port)
    except OSError as exc:
        raise OpsError(f"Cannot listen on {host}:{port}: {exc.strerror}") from None
    typer.echo(f"Listening on {receiver.url} (Ctrl-C to stop)")
    try:
        receiver.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        typer.echo(f"Received {receiver.received} deliveries, {receiver.stored} new.")


@webhooks_app.command("subscribe")
def subscribe(
    url: str = typer.Option(..., help="Public URL of `webhooks listen` (https in production)."),
    event: str = typer.Option("all_events", help="Event type, e.g. reply_received, email_link_clicked."),
    campaign: str | None = typer.Option(None, help="Campaign id or name (default: every campaign)."),
    name: str = typer.Option("ops-instantly", help="Subscription name."),
    secret_env: str = typer.Option("OPS_WEBHOOK_SECRET", help=SECRET_ENV_HELP),
    credentials: str | None = typer.Option(
        None, help="InstantlyCredentials block (default: INSTANTLY_* env)."
    ),
) -> None:
    """Create a webhook subscription that sends the shared secret as a header.

    Example: ops-instantly webhooks subscribe --url https://hooks.example.com/instantly/webhook
    """
    from blocks import resolve_credentials
    from ops_instantly.webhooks import SECRET_HEADER

    secret = _secret(secret_env, required=True)
    with resolve_credentials(credentials).get_client() as client:
        campaign_id = client.campaigns.find(campaign).id if campaign else None
        hook = client.webhooks.create(
            {
                "target_hook_url": url,
                "event_type": event,
                "campaign": campaign_id,
                "name": name,
                "headers": {SECRET_HEADER: secret},
            }
        )
    typer.echo(f"Subscribed {hook.id}: {event} -> {url}")


@webhooks_app.command("list")
def list_hooks(
    credentials: str | None = typer.Option(
        None, help="InstantlyCredentials block (default: INSTANTLY_* env)."
    ),
    json_: bool = JSON_OPTION,
) -> None:
    """List webhook subscriptions (headers are not shown, not even with --json).

    Example: ops-instantly webhooks list --json
    """
    from blocks import resolve_credentials

    with resolve_credentials(credentials).get_client() as client:
        hooks = list(client.webhooks.list())
    if json_:
        # The headers carry the shared secret (SECRET_HEADER): never printed.
        print_json([{k: v for k, v in as_returned(h).items() if k != "headers"} for h in hooks])
        return
    for hook in hooks:
        typer.echo(f"{hook.id}  {hook.event_type or 'custom'}  {hook.target_hook_url}  status={hook.status}")


@webhooks_app.command("delete")
def delete_hook(
    webhook_id: str = typer.Argument(..., help="Webhook id."),
    credentials: str | None = typer.Option(
        None, help="InstantlyCredentials block (default: INSTANTLY_* env)."
    ),
) -> None:
    """Delete a webhook subscription.

    Example: ops-instantly webhooks delete 019a...
    """
    from blocks import resolve_credentials

    with resolve_credentials(credentials).get_client() as client:
        client.webhooks.delete(webhook_id)
    typer.echo(f"Deleted {webhook_id}")
