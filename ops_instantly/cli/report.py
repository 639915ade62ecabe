"""`ops-instantly report`: a self-contained HTML report of the campaigns in the warehouse."""

from __future__ import annotations

from pathlib import Path

import typer

from ops_instantly.cli._app import app
from ops_instantly.cli._support import WAREHOUSE_HELP, run_flow


@app.command()
def report(
    campaign: list[str] | None = typer.Option(None, help="Campaign id or name (repeatable; default: all)."),
    out: Path = typer.Option(Path("report.html"), help="HTML file to write."),
    by: str | None = typer.Option(
        None, help='A source column for "reply rate by ..." (e.g. Industry; case-insensitive).'
    ),
    warehouse: str | None = typer.Option(None, help=WAREHOUSE_HELP),
    as_flow: bool = typer.Option(
        False, "--flow", help="Run as the build-report Prefect flow (also publishes artifacts)."
    ),
) -> None:
    """Write an HTML report: headline rates, a daily chart, the funnel, steps and A/B variants per campaign.

    Reads the warehouse only (run `ops-instantly sync` first); the file has no scripts and needs no internet.

    Example: ops-instantly report --campaign "Q3 founders" --by Industry --out report.html
    """
    from blocks import resolve_warehouse
    from tasks.report import collect_report, render_html, write_report

    if as_flow:
        from flows.build_report import build_report

        path = Path(
            run_flow(build_report, campaigns=campaign or [], out=str(out), by=by, warehouse=warehouse or "")
        )
        typer.echo(f"wrote {path}")
        return
    found = collect_report.fn(resolve_warehouse(path=warehouse), campaign or None, by)
    path = write_report(render_html(found), out)
    typer.echo(f"wrote {path} ({len(found.campaigns)} campaign(s))")
