"""`ops-instantly login`: check an Instantly API key and save it in an InstantlyCredentials block."""

from __future__ import annotations

import os
import re
import sys

import typer

from ops_instantly.cli._app import app
from ops_instantly.cli._ask import ask_secret, stdin_is_terminal
from ops_instantly.cli._support import api_errors, require_prefect_api
from ops_instantly.errors import OpsError

_BLOCK_NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")  # Prefect block names: lowercase letters, digits, dashes


def _api_key(given: str | None) -> str:
    """The key from --api-key, else standard input when it is piped, else INSTANTLY_API_KEY, else a prompt."""
    key = (given or _piped_key() or os.environ.get("INSTANTLY_API_KEY") or "").strip()
    if key:
        return key
    if not stdin_is_terminal():
        raise OpsError(
            "No API key given.",
            hint="pipe it in (`ops-instantly login < keyfile`), pass --api-key, set INSTANTLY_API_KEY, "
            "or run it in a terminal",
        )
    key = ask_secret("Instantly API key").strip()
    if not key:
        raise OpsError("No API key given.")
    return key


def _piped_key() -> str:
    """The first line of standard input when it is a pipe or a file (`echo KEY | ops-instantly login`)."""
    if sys.stdin is None or stdin_is_terminal():
        return ""
    try:
        return sys.stdin.readline().strip()
    except (OSError, ValueError):  # no readable stdin (closed, or a test runner's placeholder)
        return ""


@app.command()
def login(
    name: str = typer.Option("default", "--name", "-n", help="Block name (one per workspace)."),
    api_key: str | None = typer.Option(
        None,
        help="API key (default: read from standard input when piped, else INSTANTLY_API_KEY, else asked for,"
        " hidden). Avoid it on shared machines: it lands in the shell history.",
        show_default=False,
    ),
    base_url: str | None = typer.Option(
        None, help="API base URL (default: INSTANTLY_BASE_URL, else the real API)."
    ),
    workspace_id: str | None = typer.Option(None, help="Sub-workspace id, for agency keys (x-as-workspace)."),
    rate_per_second: float | None = typer.Option(
        None, min=0.1, max=100, help="This process's request budget."
    ),
    rate_per_minute: float | None = typer.Option(
        None, min=1, max=6000, help="This process's request budget."
    ),
) -> None:
    """Check an API key against Instantly and save it as an InstantlyCredentials block.

    The key is never printed. Commands use the block named `default` when given no --credentials (or
    the one OPS_CREDENTIALS_BLOCK names); other blocks with --credentials NAME.

    Asks for the key (hidden) in a terminal; reads it from standard input when piped.

    Example: ops-instantly login --name production < production.key
    """
    from pydantic import SecretStr

    from blocks import InstantlyCredentials
    from blocks.instantly import (
        BASE_URL_PASSWORD_REFUSAL,
        DEFAULT_BLOCK_NAME,
        DEFAULT_RATE_PER_MINUTE,
        DEFAULT_RATE_PER_SECOND,
    )
    from instantly_client import DEFAULT_BASE_URL
    from ops_core.settings import CREDENTIALS_BLOCK_ENV
    from ops_core.urls import has_password, redact_url

    if not _BLOCK_NAME.match(name):
        raise OpsError(
            f"Invalid block name {name!r}: use lowercase letters, digits and dashes (e.g. production)."
        )
    url = (base_url or os.environ.get("INSTANTLY_BASE_URL") or DEFAULT_BASE_URL).strip()
    if has_password(url):  # before the key is asked for: the block would refuse it anyway
        given = "--base-url" if base_url else "INSTANTLY_BASE_URL"
        raise OpsError(
            f"Cannot save {redact_url(url)} ({given}) in a block: expected {BASE_URL_PASSWORD_REFUSAL}."
        )
    creds = InstantlyCredentials(
        api_key=SecretStr(_api_key(api_key)),
        base_url=url,
        workspace_id=workspace_id,
        rate_per_second=rate_per_second or DEFAULT_RATE_PER_SECOND,
        rate_per_minute=rate_per_minute or DEFAULT_RATE_PER_MINUTE,
    )
    with api_errors(), creds.get_client() as client:
        # One cheap read proves the key, the plan and the campaigns:read scope (401 / 402 / 403 otherwise).
        first = next(iter(client.campaigns.pages(limit=1)), None)
    seen = "at least one campaign" if first is not None and first.items else "no campaigns yet"
    require_prefect_api()  # after the key is known good: a wrong key fails in a second, not after Prefect starts
    try:
        creds.save(name, overwrite=True)
    except Exception as exc:
        raise OpsError(
            f"Could not save the block {name!r} to the Prefect API: {' '.join(str(exc).split())[:200]}",
            hint="check PREFECT_API_URL and that the server is up",
        ) from None
    typer.echo(
        f"Key accepted by {redact_url(creds.base_url)} ({seen}); saved as InstantlyCredentials block {name!r}."
    )
    if name == DEFAULT_BLOCK_NAME:
        typer.echo("Commands use it when given no --credentials (INSTANTLY_API_KEY, if set, comes first).")
    else:
        typer.echo(f"Use it with --credentials {name}, or export {CREDENTIALS_BLOCK_ENV}={name}.")
