"""`ops-instantly push`: push an Ops table to Instantly campaigns, exactly once, with a progress bar."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import typer

from ops_core.bounds import MAX_LEADS_PER_ADD, MAX_TIMEOUT_SECONDS, MAX_WAIT_SECONDS, MIN_TIMEOUT_SECONDS
from ops_core.text import counted
from ops_instantly.cli._app import app
from ops_instantly.cli._json import print_json
from ops_instantly.cli._run_json import push_document
from ops_instantly.cli._support import (
    CREDENTIALS_OPTION,
    WAREHOUSE_HELP,
    api_errors,
    check_warehouse,
    console,
    load_credentials,
    needs_prefect_api_for_credentials,
    open_warehouse,
    require_prefect_api,
    run_flow,
)
from ops_instantly.errors import OpsError

if TYPE_CHECKING:
    from flows.push_leads import SourceParameters


@app.command()
def push(
    source: str | None = typer.Option(
        None,
        "--source",
        "-s",
        help="CSV, Excel (.xlsx) or Parquet path, duckdb:///path.duckdb (with --table), or postgresql://user@host/db "
        "(with --table or --query).",
        metavar="SOURCE",
    ),
    table: str | None = typer.Option(
        None, "--table", "-t", help="Table to read; names ops.<table>.", metavar="NAME"
    ),
    key: str | None = typer.Option(
        None,
        "--key",
        help="Column holding a stable row key (default: the normalised email).",
        metavar="COLUMN",
    ),
    campaign: list[str] | None = typer.Option(
        None,
        "--campaign",
        help="Campaign id or exact name (repeatable). With no --source and no --campaign, every table "
        "connected with `ops-instantly connect-table` is pushed to its campaigns.",
        metavar="ID_OR_NAME",
    ),
    mapping: str | None = typer.Option(
        None,
        "--mapping",
        help="YAML/JSON file: `fields: {email: COLUMN}`, `rename: {COLUMN: var_name}`, `exclude: [COLUMN]`, "
        "`include: [_loader_column]` (docs/lead-tables.md).",
        metavar="FILE",
    ),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Show the mapping, validation summary and first payloads; send nothing."
    ),
    skip_if: str = typer.Option(
        "in_campaign",
        "--skip-if",
        help="in_campaign (default) skips leads already in a campaign outside this push (the campaigns "
        "named together do not block each other); in_workspace skips leads anywhere in the workspace; "
        "none adds them anyway.",
        metavar="in_campaign|in_workspace|none",
    ),
    query: str | None = typer.Option(
        None, "--query", help="Postgres query to read instead of --table.", metavar="SQL"
    ),
    sheet: str | None = typer.Option(
        None, "--sheet", help="Sheet of an .xlsx/.xls/.ods source (default: the first).", metavar="NAME"
    ),
    source_block: str | None = typer.Option(
        None, "--source-block", help="Postgres Source block with the connection URL.", metavar="BLOCK"
    ),
    batch_size: int = typer.Option(
        MAX_LEADS_PER_ADD, min=1, max=MAX_LEADS_PER_ADD, help="Leads per bulk add (the API allows 1,000)."
    ),
    timeout: float = typer.Option(
        30.0, min=MIN_TIMEOUT_SECONDS, max=MAX_TIMEOUT_SECONDS, help="Seconds to wait for each API response."
    ),
    wait: float | None = typer.Option(
        None,
        "--wait",
        min=0,
        max=MAX_WAIT_SECONDS,
        help="Seconds to wait for another push of the same table (a scheduled run, a second shell) to end "
        "before failing (default: 1800, the push-leads flow's wait_seconds); 0 fails at once. The rows it "
        "pushed then show as already pushed.",
        metavar="SECONDS",
    ),
    credentials: str | None = CREDENTIALS_OPTION,
    warehouse: str | None = typer.Option(None, help=WAREHOUSE_HELP, metavar="PATH"),
    as_json: bool = typer.Option(
        False,
        "--json",
        help="Print one JSON document on stdout (outcome counts, requests by kind, run id, warehouse; "
        "docs/cli-json.md) instead of the tables; progress stays on stderr.",
    ),
) -> None:
    """Push a table to Instantly campaigns as leads, exactly once; re-runs send only new or changed rows.

    Every row gets an outcome in ops.push_results (created, updated, unchanged, duplicate, skipped,
    blocklisted, invalid, rejected) with a reason.

    Example: ops-instantly push --source leads.csv --campaign "Q3 founders"
    """
    if skip_if not in ("in_campaign", "in_workspace", "none"):
        raise OpsError(
            f"--skip-if {skip_if!r} is not a choice.", hint="use in_campaign, in_workspace or none"
        )
    if (source or source_block) and not campaign and not dry_run:
        raise OpsError("No campaign given.", hint="pass --campaign ID_OR_NAME (repeatable)")
    if campaign and not (source or source_block):
        raise OpsError("No source given.", hint="pass --source PATH_OR_URL (or --source-block NAME)")
    if source and "://" not in source:
        from pathlib import Path

        from ops_core.urls import redact_url

        if not Path(source).expanduser().exists():  # a libpq `host=... password=...` string too: redacted
            raise OpsError(
                f"No such file: {redact_url(source)}.",
                hint="check the path, or pass a duckdb:/// or postgresql:// URL",
            )
    if not dry_run:  # a dry run starts no Prefect API, and writes nothing (not even a new lake's catalog)
        check_warehouse(warehouse)  # a DuckLake that cannot be reached fails now, before Prefect starts

    def named() -> SourceParameters:
        return _source_parameters(
            source=source,
            postgres_source=source_block or "",
            table=table or "",
            query=query or "",
            sheet=sheet or "",
            key_column=key or "",
            campaigns=campaign or [],
            mapping_file=mapping or "",
        )

    # With neither --source nor --source-block, the connected tables' sources are read from the warehouse.
    _check_settings_first(
        credentials,
        campaign or [],
        mapping,
        dry_run=dry_run,
        source=named if source or source_block else None,
    )

    # Only now Prefect is imported (blocks, flows): bad settings failed above in well under a second.
    from flows.push_leads import PartlyPushedError, preview_push_leads, push_leads

    params: dict[str, Any] = {**named(), "warehouse": warehouse or ""}
    sending: dict[str, Any] = dict(batch_size=batch_size, timeout_seconds=timeout)
    if wait is not None:
        sending["wait_seconds"] = wait
    if dry_run:
        # No flow run: the dry run's steps run here, and Prefect's API is not started. With campaigns it
        # looks them up (reads only), with the same credentials as a push.
        creds = load_credentials(credentials) if campaign else None
        with api_errors():
            preview = preview_push_leads(creds, **params)
        if as_json:
            print_json({"command": "push", "dry_run": True, "tables": _per_table(preview)})
            return
        for each in _per_table(preview):
            _print_dry_run(each)
        return
    creds = load_credentials(credentials)
    require_prefect_api()  # its status line first: the progress bar below takes the terminal
    from tasks.push import listening

    try:
        with _ProgressBar() as bar, listening(bar):
            result = run_flow(
                push_leads, credentials=creds, skip_if=skip_if, **params, **sending, show_status=False
            )
    except PartlyPushedError as exc:
        if not as_json:  # a failed command prints no JSON document (docs/cli-json.md)
            for each in _per_table(exc.pushed) if exc.pushed else []:
                _print_summary(each)  # what did reach its campaigns, above the one-line error
        raise
    if as_json:
        print_json(push_document(_per_table(result), warehouse=open_warehouse(warehouse).display))
        return
    for each in _per_table(result):
        _print_summary(each)


def _check_settings_first(
    credentials: str | None,
    campaigns: list[str],
    mapping: str | None,
    *,
    dry_run: bool,
    source: Callable[[], SourceParameters] | None,
) -> None:
    """The settings, the mapping file, the source parameters, the credentials and the campaigns, checked
    before Prefect's API starts and before the source is read: a bad INSTANTLY_RATE_PER_SECOND on a
    200,000-row file fails in a second, not after the extract, and an unsaved --source-block or a source of
    no known kind at once, not after the temporary API's 20-30 s. The flow checks them again (it also runs
    from deployments), in the same order."""
    # A dry run checks its campaigns too (a misspelt one fails it); with no campaign it needs no key.
    needs_key = not (dry_run and not campaigns)
    creds = None
    if needs_key and not needs_prefect_api_for_credentials(credentials):
        creds = load_credentials(credentials)  # from the environment: first, it needs no Prefect at all
    from tasks.mapping import load_mapping_file

    load_mapping_file(mapping)
    if source is not None:
        from flows.push_leads import TablePush, check_source  # imports Prefect; starts no API

        check_source(TablePush.given(**source()))
    if needs_key and creds is None:
        creds = load_credentials(credentials)  # a block: Prefect's API starts here
    if creds is not None and campaigns:
        from tasks.push import resolve_campaigns

        with api_errors():
            resolve_campaigns.fn(creds, campaigns)


def _source_parameters(source: str | None, **named: Any) -> SourceParameters:
    """The flow's source parameters from the command line's options (`source` may hold a password)."""
    from pydantic import SecretStr

    from blocks import PostgresSource
    from ops_core.urls import redact_url

    if source and redact_url(source) != source:
        # A password never becomes a run parameter: the URL travels in-process in an unsaved block, whose
        # SecretStr the run's recorded parameters show as stars.
        # `named` (Any values) holds the other SourceParameters keys, as the caller passes them.
        return {**named, "source": "", "postgres": PostgresSource(url=SecretStr(source))}  # type: ignore[typeddict-item]
    return {**named, "source": source or "", "postgres": None}  # type: ignore[typeddict-item]  # as above


def _per_table(result: dict[str, Any]) -> list[dict[str, Any]]:
    """A push of connected tables returns one summary per table; a push of one table, that one."""
    return list(result["tables"]) if "tables" in result else [result]


class _ProgressBar:
    """A rich progress bar per campaign, on stderr (PushListener)."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=False,
        )
        self._tasks: dict[str, Any] = {}
        self._lock = threading.Lock()

    def __enter__(self) -> _ProgressBar:
        return self  # started by the first progress: a push that fails before it leaves no blank line

    def __exit__(self, *exc: object) -> None:
        if self._tasks:
            self._progress.stop()

    def on_progress(self, campaign: str, done: int, total: int) -> None:
        with self._lock:
            if not self._tasks:
                self._progress.start()
            task = self._tasks.get(campaign)
            if task is None:
                task = self._tasks[campaign] = self._progress.add_task(f"push to {campaign}", total=total)
            self._progress.update(task, completed=min(done, total), total=total)


def _print_summary(result: dict[str, Any]) -> None:
    from rich.table import Table
    from rich.text import Text

    from warehouse.ledger import OUTCOMES  # imported here: a push has loaded it already

    out = console()
    summary = Table(
        title=Text(f"Push of ops.{result['table']} ({counted(result['rows'], 'row')})"), title_justify="left"
    )
    summary.add_column("campaign")
    for name in OUTCOMES:
        summary.add_column(name, justify="right")
    summary.add_column("requests", justify="right")
    for c in result["campaigns"]:
        summary.add_row(
            Text(c["name"]), *(f"{c['counts'].get(o, 0):,}" for o in OUTCOMES), f"{c['requests']:,}"
        )
    out.print(summary)
    from tasks.push_models import describe_requests

    for c in result["campaigns"]:
        out.print(
            f"Requests to {c['name']}: {c['requests']:,} ({describe_requests(c['requests_by_kind'])})",
            markup=False,
            highlight=False,
        )
    lifted = [c for c in result["campaigns"] if c.get("guard_lifted")]
    if lifted:
        names = ", ".join(f"{c['name']} ({c['guard_lifted']:,})" for c in lifted)
        out.print(
            f"Added although already in another campaign of this push: {names}. skip_if_in_campaign skips "
            "only leads in campaigns outside this push.",
            markup=False,
            highlight=False,
        )
    earlier = [c for c in result["campaigns"] if c.get("created_earlier")]
    if earlier:
        names = ", ".join(f"{c['name']} ({c['created_earlier']:,})" for c in earlier)
        out.print(
            f"Of the created, sent by an interrupted earlier run and found by a lookup, not sent again: {names}.",
            markup=False,
            highlight=False,
        )
    if result.get("skip_hint"):
        out.print(f"Some rows were skipped: {result['skip_hint']}.", markup=False)
    if result.get("duplicate_hint"):
        out.print(f"Some leads were already in the campaign: {result['duplicate_hint']}.", markup=False)
    if any(c["unresolved"] for c in result["campaigns"]):
        out.print("Some outcomes are still unknown (timeouts or 5xx): run the same push again to reconcile.")
    out.print(f"Per-row outcomes: SELECT * FROM ops.push_results WHERE run_id = '{result['run_id']}'")


def _one_line(name: str) -> str:
    """A column name with its control characters escaped as in JSON (`Email\\nAddress`); others as they are."""
    if name.isprintable():
        return name
    return "".join(c if c.isprintable() else json.dumps(c)[1:-1] for c in name)


def _print_dry_run(result: dict[str, Any]) -> None:
    from rich.table import Table
    from rich.text import Text

    out = console()
    title = Text(f"Mapping of ops.{result['table']} ({counted(result['rows'], 'row')})")
    # At least as wide as its title: rich wraps a title to the table's width (`Mapping of ops.x (2` / `rows)`).
    mapping = Table(title=title, title_justify="left", min_width=len(title.plain))
    mapping.add_column("column")
    mapping.add_column("sent as")
    for column, target in result["mapping"]:
        # As the user's own text, never rich markup (`Notes [internal]` lost its `[internal]`); a header
        # cell spanning lines shows its line break as `\n`, as a --mapping file writes it, not as a row.
        mapping.add_row(Text(_one_line(column)), Text(target))
    out.print(mapping)
    validation = ", ".join(f"{k}: {v:,}" for k, v in sorted(result["validation"].items()))
    out.print(f"Validation: {validation}", markup=False, highlight=False)
    if result.get("campaigns"):
        found = ", ".join(f"{c['name']} ({c['id']})" for c in result["campaigns"])
        out.print(f"Campaigns found: {found}", markup=False, highlight=False)
    for example in result["examples"]:
        out.print(f"  {example}", markup=False, highlight=False)
    out.print("First payloads:")
    for payload in result["payloads"]:
        out.print(json.dumps(payload, ensure_ascii=False), markup=False, highlight=False)
    out.print("Dry run: nothing was sent.")
