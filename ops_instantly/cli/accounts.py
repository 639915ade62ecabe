"""`ops-instantly accounts`: the workspace's sending accounts, their status, warmup and daily limit."""

from __future__ import annotations

import typer

from ops_instantly.cli._app import app
from ops_instantly.cli._json import JSON_OPTION, as_returned, print_json
from ops_instantly.cli._support import CREDENTIALS_OPTION, api_errors, number, open_client, print_table
from ops_instantly.errors import OpsError

# SPEC components.schemas.Account.status x-enumDescriptions.
ACCOUNT_STATUS = {
    1: "Active",
    2: "Paused",
    3: "Maintenance (auto-resumes)",
    -1: "Connection Error",
    -2: "Soft Bounce Error",
    -3: "Sending Error",
}
# SPEC components.schemas.Account.warmup_status x-enumDescriptions.
WARMUP_STATUS = {
    0: "Paused",
    1: "Active",
    -1: "Banned",
    -2: "Spam Folder Unknown",
    -3: "Permanent Suspension",
}


def _label(labels: dict[int, str], code: int | None) -> str | None:
    if code is None:
        return None
    return labels.get(int(code), f"Unknown ({code})")


@app.command()
def accounts(
    # `accounts list` reads like `campaigns list`: accept the word rather than fail on it.
    verb: str | None = typer.Argument(None, hidden=True, metavar="list"),
    search: str | None = typer.Option(None, help="Only accounts whose email contains this."),
    credentials: str | None = CREDENTIALS_OPTION,
    json_: bool = JSON_OPTION,
) -> None:
    """List sending accounts: email, status, warmup status and daily limit (--json: the API's accounts).

    Example: ops-instantly accounts --credentials production
    """
    if verb not in (None, "list"):
        raise OpsError(
            f"Unknown accounts command {verb!r}.", hint="run `ops-instantly accounts` (or `accounts list`)"
        )
    with api_errors(), open_client(credentials) as client:
        rows = list(client.accounts.list(search=search))
    if json_:
        print_json([as_returned(a) for a in rows])
        return
    print_table(
        f"{len(rows)} sending account(s)",
        ["email", "status", "warmup", "daily limit"],
        [
            (
                a.email,
                _label(ACCOUNT_STATUS, a.status),
                _label(WARMUP_STATUS, a.warmup_status),
                number(a.daily_limit),
            )
            for a in rows
        ],
    )
