"""Helpers shared by the campaign, account, login, connect and report commands: credentials, the Prefect API
check, API errors in words, and rich tables."""

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


def require_prefect_api() -> None:
    """Fail in one line when no Prefect API answers (the configured PREFECT_API_URL, or an ephemeral one)."""
    try:
        from prefect.client.orchestration import get_client
        from prefect.settings import PREFECT_API_URL

        url = PREFECT_API_URL.value() or "the ephemeral Prefect API"
        with get_client(sync_client=True) as client:
            problem = client.api_healthcheck()
    except Exception as exc:  # the ephemeral server could not start, or settings are invalid
        problem = exc
        url = "the Prefect API"
    if problem is not None:
        detail = " ".join(str(problem).split()) or type(problem).__name__
        raise OpsError(
            f"No reachable Prefect API at {url}: {detail[:200]}",
            hint="start one with `prefect server start` and set PREFECT_API_URL, or unset PREFECT_API_URL",
        )


def load_credentials(block: str | None) -> InstantlyCredentials:
    """The credentials `blocks.resolve_credentials` picks: a block (needs the Prefect API) or the environment.

    The environment's settings are checked first, before Prefect is even imported: a bad
    INSTANTLY_RATE_PER_SECOND fails in a fraction of a second.
    """
    if not needs_prefect_api_for_credentials(block):
        from ops_core.settings import instantly_env

        instantly_env()
    from blocks import resolve_credentials

    if needs_prefect_api_for_credentials(block):
        require_prefect_api()
    return resolve_credentials(block)


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


def run_flow(flow: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a flow in this process (recorded in Prefect): API errors in words, no traceback on screen."""
    require_prefect_api()
    with api_errors(), _quiet_console_errors():
        return flow(*args, **kwargs)


def console() -> Any:
    """A rich console; wide when not a terminal, so ids are never cut in pipes and tests."""
    from rich.console import Console

    return Console(width=None if sys.stdout.isatty() else 200, highlight=False)


def print_table(title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Print a rich table (`-` for missing values)."""
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for name in columns:
        table.add_column(name, no_wrap=name in ("id", "email", "campaign id"))
    for row in rows:
        table.add_row(*("-" if v is None else str(v) for v in row))
    console().print(table)


def number(value: float | None) -> str | None:
    """`50` rather than `50.0` for whole numbers."""
    if value is None:
        return None
    return str(int(value)) if float(value).is_integer() else str(value)
