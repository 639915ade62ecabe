"""Helpers shared by the campaign, account, login, connect and report commands: credentials, the Prefect API
check, API errors in words, and rich tables.

A command that runs no flow answers without Prefect: `open_client` builds the client from INSTANTLY_API_KEY
without importing Prefect (a block needs Prefect's API), and `open_warehouse` opens --warehouse directly.
Prefect is imported, and its API started, only by `load_credentials` for a block and by `run_flow`.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

import typer

from ops_instantly.errors import OpsError

if TYPE_CHECKING:
    from blocks import InstantlyCredentials
    from instantly_client import InstantlyClient
    from warehouse.db import Warehouse

T = TypeVar("T")

CREDENTIALS_HELP = (
    "InstantlyCredentials block name (default: the block OPS_CREDENTIALS_BLOCK names, else INSTANTLY_API_KEY,"
    " else the block 'default' that `login` saves)."
)
CREDENTIALS_OPTION = typer.Option(None, "--credentials", "-c", help=CREDENTIALS_HELP, metavar="BLOCK")
WAREHOUSE_HELP = "DuckDB file or ducklake:postgres:... URL (default: OPS_WAREHOUSE or ./warehouse.duckdb)."

# What 401/402/403 mean, in words (docs/instantly-api-notes.md §1, §7; docs/troubleshooting.md).
STATUS_WORDS = {
    401: "Instantly rejected the API key (HTTP 401): it is wrong, revoked, or for another workspace",
    402: "The workspace has no active paid plan with API access (HTTP 402)",
    403: "The API key lacks the scope for this call (HTTP 403)",
}
STATUS_HINTS = {
    401: "create a key under Settings > Integrations > API Keys and run `ops-instantly login`",
    402: "API access needs a paid Instantly plan; check the workspace's billing",
    403: "give the key the scopes in docs/real-workspace.md (or all:all) and log in again",
}


def explain(exc: Exception) -> OpsError | None:
    """An `OpsError` in words for a client error whose status has a plain explanation, else `None`."""
    from instantly_client.errors import InstantlyError

    if not isinstance(exc, InstantlyError):
        return None
    words = STATUS_WORDS.get(exc.status_code or 0)
    if words:
        return OpsError(f"{words}.", hint=STATUS_HINTS[exc.status_code or 0])
    return None


@contextmanager
def api_errors() -> Iterator[None]:
    """Turn 401/402/403 from the API into one line in words; other errors pass (they are one line already)."""
    try:
        yield
    except Exception as exc:
        better = explain(exc)
        if better is not None:
            raise better from None
        raise


@contextmanager
def status(text: str, *, show: bool = True) -> Iterator[None]:
    """A transient status line (a spinner) on stderr while something slow and silent runs, on a terminal
    only: piped or captured output stays exactly the command's result or its one-line error."""
    if not show or not sys.stderr.isatty():
        yield
        return
    from rich.console import Console

    with Console(stderr=True).status(text):
        yield


def require_prefect_api(*, show_status: bool = True) -> None:
    """Fail in one line when no Prefect API answers (the configured PREFECT_API_URL, or an ephemeral one).

    Without PREFECT_API_URL, this starts Prefect's temporary API (20-30 s on a small machine; a terminal
    shows a status line meanwhile) and a watchdog that stops it when this process ends (_server_watch.py).
    The URL and the error are shown with *** for a password (PREFECT_API_URL may carry `user:secret@`).
    """
    from ops_core.urls import redact_passwords, redact_url

    try:
        from prefect.client.orchestration import get_client
        from prefect.settings import PREFECT_API_URL

        configured = PREFECT_API_URL.value()
        url = redact_url(configured) if configured else "the ephemeral Prefect API"
        note = (
            f"Connecting to the Prefect API at {url}"
            if configured
            else "Starting Prefect's temporary API (20-30 s)"
        )
        with status(note, show=show_status):
            if not configured:
                from ops_instantly.cli._server_watch import start_temporary_api

                start_temporary_api()  # out of reach of the terminal's Ctrl-C (see _server_watch.py)
            with get_client(sync_client=True) as client:
                problem = client.api_healthcheck()
        if not configured:
            from ops_instantly.cli._server_watch import watch_temporary_api

            watch_temporary_api()  # the temporary server dies with this process, even on kill -9
    except Exception as exc:  # the ephemeral server could not start, or settings are invalid
        problem = exc
        url = "the Prefect API"
    if problem is not None:
        detail = redact_passwords(" ".join(str(problem).split()) or type(problem).__name__)
        raise OpsError(
            f"No reachable Prefect API at {url}: {detail[:200]}",
            hint="start one with `prefect server start` and set PREFECT_API_URL, or unset PREFECT_API_URL",
        )


def load_credentials(block: str | None) -> InstantlyCredentials:
    """The credentials `blocks.resolve_credentials` picks: a block (needs the Prefect API) or the environment.

    The environment's settings are checked first, before Prefect is even imported: a bad
    INSTANTLY_RATE_PER_SECOND fails in a fraction of a second (it applies to a block's credentials too).
    """
    from ops_core.settings import instantly_env, instantly_rates

    if needs_prefect_api_for_credentials(block):
        instantly_rates()
    else:
        instantly_env()
    from blocks import resolve_credentials

    if needs_prefect_api_for_credentials(block):
        from blocks.instantly import check_credentials_saved

        check_credentials_saved(block)  # a misspelt block fails now, not after the temporary API started
        require_prefect_api()
    return resolve_credentials(block)


def open_client(block: str | None, *, timeout: float | None = None) -> InstantlyClient:
    """A client for the workspace `load_credentials` picks, as the block's `get_client` makes it.

    From INSTANTLY_API_KEY (no block named) it is built straight from the environment, so a command that
    runs no flow never imports Prefect; a block is loaded through Prefect's API.

    Raises:
        OpsError: no key and no block, a bad INSTANTLY_* setting, an unknown block, no reachable Prefect API.
    """
    if needs_prefect_api_for_credentials(block):
        return load_credentials(block).get_client(timeout=timeout)
    from instantly_client import DEFAULT_BASE_URL, InstantlyClient
    from ops_core.settings import (
        DEFAULT_RATE_PER_MINUTE,
        DEFAULT_RATE_PER_SECOND,
        instantly_api_key,
        instantly_env,
    )

    # The InstantlyCredentials block's defaults; a key from the environment has no global rate limit.
    settings: dict[str, Any] = {
        "base_url": DEFAULT_BASE_URL,
        "workspace_id": None,
        "rate_per_second": DEFAULT_RATE_PER_SECOND,
        "rate_per_minute": DEFAULT_RATE_PER_MINUTE,
        **instantly_env(),
    }
    if timeout is not None:
        settings["timeout"] = timeout
    return InstantlyClient(api_key=instantly_api_key(), **settings)


def open_warehouse(location: str | None) -> Warehouse:
    """The warehouse at --warehouse (a file or DuckLake URL), else OPS_WAREHOUSE's; no Prefect needed."""
    from warehouse.location import warehouse_at

    return warehouse_at(location)


def check_warehouse(location: str | None) -> None:
    """Open a DuckLake warehouse now, before Prefect's temporary API starts: an unreachable catalog fails in
    seconds (warehouse/lake.py CONNECT_TIMEOUT_SECONDS). The connection is kept for this process, so the run
    reuses it. A DuckDB file is not opened here (another run may hold it; its errors come fast anyway).

    Raises:
        OpsError: the catalog cannot be reached or opened.
    """
    store = open_warehouse(location)
    if store.lake is not None:
        with store.connect():
            pass


def needs_prefect_api_for_credentials(block: str | None) -> bool:
    """True unless the credentials come from INSTANTLY_API_KEY (no block named, none set in the environment)."""
    from ops_core.settings import CREDENTIALS_BLOCK_ENV  # not blocks: that would import Prefect

    named = block or os.environ.get(CREDENTIALS_BLOCK_ENV, "").strip()
    return bool(named) or not os.environ.get("INSTANTLY_API_KEY", "").strip()


class _NoErrorsFilter(logging.Filter):
    """Drops ERROR records (a failed run's traceback): the CLI reports the failure itself, in one line."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno < logging.ERROR


@contextmanager
def _quiet_console_errors() -> Iterator[None]:
    # Only the console handlers are filtered: the run's logs, traceback included, still reach the Prefect API.
    from prefect.logging.handlers import PrefectConsoleHandler

    handlers = {
        handler
        for logger in [logging.getLogger(), *logging.Logger.manager.loggerDict.values()]
        if isinstance(logger, logging.Logger)
        for handler in logger.handlers
        if isinstance(handler, PrefectConsoleHandler)
    }
    quiet = _NoErrorsFilter()
    for handler in handlers:
        handler.addFilter(quiet)
    try:
        yield
    finally:
        for handler in handlers:
            handler.removeFilter(quiet)


def run_flow(flow: Callable[..., T], *args: Any, show_status: bool = True, **kwargs: Any) -> T:
    """Run a flow in this process (recorded in Prefect): API errors in words, no traceback on screen.

    On a terminal a status line says what it waits for (Prefect's API, then the run), unless
    `show_status=False` (a command showing progress of its own).
    """
    require_prefect_api(show_status=show_status)
    name = getattr(flow, "name", "the flow")
    with api_errors(), _quiet_console_errors(), status(f"Running {name}", show=show_status):
        return flow(*args, **kwargs)


def console() -> Any:
    """A rich console; wide when not a terminal, so ids are never cut in pipes and tests."""
    from rich.console import Console

    return Console(width=None if sys.stdout.isatty() else 200, highlight=False)


def print_table(title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Print a rich table (`-` for missing values); values are text, never rich markup (`Q3 [EU]`)."""
    from rich.table import Table
    from rich.text import Text

    table = Table(title=Text(title), title_justify="left")
    for name in columns:
        table.add_column(name, no_wrap=name in ("id", "email", "campaign id"))
    for row in rows:
        table.add_row(*(Text("-" if v is None else str(v)) for v in row))
    console().print(table)


def number(value: float | None) -> str | None:
    """`50` rather than `50.0` for whole numbers."""
    if value is None:
        return None
    return str(int(value)) if float(value).is_integer() else str(value)
