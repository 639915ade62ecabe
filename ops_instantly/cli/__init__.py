"""`ops-instantly`: the command line. Every error is one line and a non-zero exit, never a traceback.

Set OPS_DEBUG=1 to see the traceback of an unexpected error.
"""

from __future__ import annotations

import logging
import os
import signal
import sys

import click
import typer._click.exceptions as typer_click_exceptions
import typer.exceptions as typer_exceptions

from ops_core.interface import cli_interface
from ops_core.malloc import tune_malloc_for_push
from ops_instantly._paths import ensure_repo_on_path
from ops_instantly.errors import one_line

ensure_repo_on_path()

# Prefect's ephemeral API (used when no PREFECT_API_URL is set) needs 20-30 s to start on a small machine:
# give it time. Nothing here phones home, and this must run before Prefect is first imported:
# PREFECT_SERVER_ANALYTICS_ENABLED=false turns off the telemetry of every API this process starts (the
# ephemeral one inherits the environment), and DO_NOT_TRACK=1 turns off Prefect's SDK analytics, which
# otherwise follow the setting of whatever server PREFECT_API_URL names.
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
# The commands print their own progress and summaries: Prefect's INFO lines stay in the run logs (UI/API)
# rather than on the console. PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL=INFO shows them again.
os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "WARNING")
# Polars works on one thread of its own (read once, when polars is first imported: nothing above imports it).
# The push's frames are slices of at most 50,000 rows, worked on while requests are in flight: handing each
# expression to a pool of threads that spin while they wait cost a 1,000,000-lead push more CPU than it saved
# (about 1 s per million leads, and a core the HTTP workers wait for). POLARS_MAX_THREADS=N overrides it.
os.environ.setdefault("POLARS_MAX_THREADS", "1")
# glibc malloc: two arenas and a fixed mmap threshold, set before any thread starts (ops_core/malloc.py: about
# 80 MB off a 1,000,000-lead push's peak RSS at 100 requests/s, for ~1.5 s of system CPU). The environment's
# MALLOC_ARENA_MAX / MALLOC_MMAP_THRESHOLD_ win.
tune_malloc_for_push()
# At exit Prefect drains its events queue, and its EventsWorker warns "Still processing items: N items
# remaining..." while it does: progress, not a problem (the events are still sent), yet a second line after a
# command's one-line result or error. Its logger is named after the class.
logging.getLogger("EventsWorker").setLevel(logging.ERROR)

from ops_instantly.cli import accounts as _accounts  # noqa: E402,F401
from ops_instantly.cli import campaigns as _campaigns  # noqa: E402,F401
from ops_instantly.cli import connect as _connect  # noqa: E402,F401
from ops_instantly.cli import demo as _demo  # noqa: E402,F401
from ops_instantly.cli import login as _login  # noqa: E402,F401
from ops_instantly.cli import push as _push  # noqa: E402,F401
from ops_instantly.cli import report as _report  # noqa: E402,F401
from ops_instantly.cli import sandbox as _sandbox  # noqa: E402,F401  (registers commands)
from ops_instantly.cli import setup as _setup  # noqa: E402,F401
from ops_instantly.cli import sync as _sync  # noqa: E402,F401
from ops_instantly.cli import webhooks as _webhooks  # noqa: E402,F401
from ops_instantly.cli._app import app  # noqa: E402

__all__ = ["app", "main"]

# typer (0.2x) vendors its own copy of click, so its exceptions are not click's: handle both.
_EXIT = (click.exceptions.Exit, typer_exceptions.Exit)
_ABORT = (click.exceptions.Abort, typer_exceptions.Abort)
_USAGE = (click.UsageError, typer_click_exceptions.UsageError)
_CLICK = (click.ClickException, typer_click_exceptions.ClickException)
# Ctrl-C: the shell's exit code for SIGINT. typer turns a KeyboardInterrupt into Exit(130) and, with
# standalone_mode=False, returns that code without a word: main() says it instead.
INTERRUPTED = 130
_RESUME = {
    "push": "Run the same push again to send the rest: nothing is sent twice.",
    "sync": "Run the same sync again: it resumes from the pages already pulled.",
}


def main(argv: list[str] | None = None) -> None:
    """Run the CLI, turning every failure into a one-line error and an exit code."""
    try:
        # Shared code names inputs as this command's options (--source), not as flow parameters (`source`),
        # while the command runs: only here, never at import (tests run flows in the process that imports us).
        with cli_interface():
            result = app(args=argv, standalone_mode=False, prog_name="ops-instantly")
    except _EXIT as exc:
        sys.exit(exc.exit_code)
    except _ABORT:
        click.echo("Aborted.", err=True)
        sys.exit(1)
    except _USAGE as exc:
        ctx = getattr(exc, "ctx", None)
        command = ctx.command_path if ctx else "ops-instantly"
        message = " ".join(
            exc.format_message().split()
        )  # names the option: "Invalid value for '--port': ..."
        click.echo(f"error: {message} (see `{command} --help`)", err=True)
        sys.exit(exc.exit_code)
    except _CLICK as exc:
        click.echo(f"error: {' '.join(exc.format_message().split())}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        _interrupted(argv)
    except Exception as exc:
        if _is_interrupt(exc):
            _interrupted(argv)
        if os.environ.get("OPS_DEBUG"):
            raise
        click.echo(f"error: {one_line(exc)}", err=True)
        sys.exit(1)
    if result == INTERRUPTED:
        _interrupted(argv)
    sys.exit(result if isinstance(result, int) else 0)


def _interrupted(argv: list[str] | None) -> None:
    """One line on stderr, what to do next for a push or a sync, and exit INTERRUPTED.

    A second Ctrl-C from here on is ignored: the exit hooks that follow (Prefect stops its temporary API
    server, waiting up to 5 s) would otherwise end in a traceback.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    words = [w for w in (sys.argv[1:] if argv is None else argv) if not w.startswith("-")]
    hint = _RESUME.get(words[0], "") if words else ""
    click.echo(f"Interrupted. {hint}".rstrip(), err=True)
    sys.exit(INTERRUPTED)


def _is_interrupt(exc: BaseException) -> bool:
    """A Ctrl-C that reached us as another exception: DuckDB turns one during a query into
    `duckdb.InterruptException` ("Query interrupted"), which a flow run may re-raise."""
    duckdb = sys.modules.get("duckdb")  # never imported just to ask: a run that used no DuckDB has none
    return duckdb is not None and isinstance(exc, duckdb.InterruptException)
