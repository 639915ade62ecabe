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
    warehouse: str | None = typer.Option(None, help=WAREHOUSE_HELP),
    as_flow: bool = typer.Option(
        False, "--flow", help="Run as the build-report Prefect flow (also publishes a markdown artifact)."
    ),
) -> None:
    """Write an HTML report: a daily chart (sent, opened, replied, bounced) and a funnel per campaign.

    Reads the warehouse only (run `ops-instantly sync` first); the file has no scripts and needs no internet.

    Example: ops-instantly report --campaign "Q3 founders" --out report.html
    """
    from blocks import resolve_warehouse
    from tasks.report import collect_report, render_html, write_report

    if as_flow:
        from flows.build_report import build_report

        path = Path(run_flow(build_report, campaigns=campaign or [], out=str(out), warehouse=warehouse or ""))
        typer.echo(f"wrote {path}")
        return
    reports = collect_report.fn(resolve_warehouse(path=warehouse), campaign or None)
    path = write_report(render_html(reports), out)
    typer.echo(f"wrote {path} ({len(reports)} campaign(s))")
