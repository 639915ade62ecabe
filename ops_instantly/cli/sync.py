"""`ops-instantly sync`: pull Instantly engagement into the warehouse and join it onto the source tables."""

from __future__ import annotations

import typer

from ops_core.bounds import MAX_LOOKBACK_DAYS
from ops_core.parsing import parse_day
from ops_instantly.cli._app import app
from ops_instantly.cli._json import print_json
from ops_instantly.cli._run_json import sync_document
from ops_instantly.cli._support import (
    CREDENTIALS_OPTION,
    WAREHOUSE_HELP,
    check_warehouse,
    load_credentials,
    open_warehouse,
    run_flow,
)
from ops_instantly.errors import OpsError


@app.command()
def sync(
    campaign: list[str] | None = typer.Option(
        None,
        "--campaign",
        help="Campaign id or name (repeatable; default: every campaign).",
        metavar="ID_OR_NAME",
    ),
    lookback_days: int = typer.Option(
        14, min=0, max=MAX_LOOKBACK_DAYS, help="Days of daily analytics re-pulled each sync."
    ),
    since: str | None = typer.Option(
        None, help="Backfill daily analytics and replies from this date (YYYY-MM-DD).", metavar="DATE"
    ),
    credentials: str | None = CREDENTIALS_OPTION,
    warehouse: str | None = typer.Option(None, help=WAREHOUSE_HELP, metavar="PATH"),
    write_back: bool = typer.Option(
        False, "--write-back", help="Also add/update the engagement columns on the Postgres source table."
    ),
    source_url: str | None = typer.Option(
        None, help="Postgres URL for --write-back (or set --source-block).", metavar="URL"
    ),
    source_block: str | None = typer.Option(
        None, help="PostgresSource block for --write-back.", metavar="BLOCK"
    ),
    write_back_table: list[str] | None = typer.Option(
        None,
        help="Postgres table to write back (repeatable; default: every table pushed from that database).",
    ),
    as_json: bool = typer.Option(
        False,
        "--json",
        help="Print one JSON document on stdout (rows per table, changes, requests, run id, warehouse; "
        "docs/cli-json.md) instead of the summary lines.",
    ),
) -> None:
    """Sync campaigns, leads, analytics (daily, per step) and replies into DuckDB; refresh the engagement views.

    Re-runs never duplicate rows; unchanged rows keep their _loaded_at. The warehouse is locked for
    seconds only, while loading.

    Example: ops-instantly sync --campaign "Q3 founders" --lookback-days 14
    """
    if write_back and not (source_url or source_block):
        raise OpsError(
            "--write-back needs the Postgres source.", hint="add --source-url URL or --source-block NAME"
        )
    since_date = parse_day(since or "", "--since")
    check_warehouse(warehouse)  # a DuckLake that cannot be reached fails now, before Prefect starts
    if write_back and source_block:
        from blocks import check_postgres_source_saved  # imports Prefect; starts no API

        check_postgres_source_saved(source_block)  # now, not after the temporary API's 20-30 s
    creds = load_credentials(credentials)  # a bad INSTANTLY_* setting fails now, before Prefect starts
    from pydantic import SecretStr

    from blocks import PostgresSource
    from flows.sync_engagement import sync_engagement

    unsaved = None
    if write_back and source_url and not source_block:
        # The URL travels in-process in an unsaved block: the run's recorded parameters show its SecretStr
        # as stars.
        unsaved = PostgresSource(url=SecretStr(source_url))
    result = run_flow(
        sync_engagement,
        credentials=creds,
        campaigns=campaign or [],
        lookback_days=lookback_days,
        since=since_date.isoformat() if since_date else "",
        write_back_to=(source_block or "") if write_back else "",
        write_back_postgres=unsaved,
        write_back_tables=write_back_table or [],
        warehouse=warehouse or "",
    )
    from tasks.sync_summary import TABLES, summary_lines

    if as_json:
        document = sync_document(
            run_id=result.run_id,
            as_of=result.as_of.isoformat(),
            counts=result.counts,
            tables=TABLES,
            warehouse=open_warehouse(warehouse).display,
        )
        print_json(document)
        return
    for line in summary_lines(result.counts):
        typer.echo(line)
    # as_of: the windows' last day, the later of this machine's UTC date and the newest the API's data shows.
    typer.echo(
        f"run {result.run_id} (daily analytics up to {result.as_of.isoformat()} UTC: the newest day the API's "
        "data shows, or today if later)"
    )
