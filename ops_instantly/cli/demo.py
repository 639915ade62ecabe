"""`ops-instantly demo`: the whole loop against a local sandbox, in about a minute."""

from __future__ import annotations

from pathlib import Path

import typer

from ops_instantly.cli._app import app


@app.command()
def demo(
    warehouse: Path = typer.Option(
        Path("demo-warehouse.duckdb"),
        help="The demo's DuckDB file (replaced on each run; yours are untouched).",
    ),
    weeks: int = typer.Option(4, min=1, max=12, help="Simulated weeks of sending."),
    rows: int = typer.Option(300, min=20, max=20000, help="Rows in the demo Ops table."),
    port: int = typer.Option(0, min=0, max=65535, help="Sandbox port (0: any free port)."),
) -> None:
    """Run the whole loop on a local sandbox: table, campaigns, push, weeks of sending, sync, engagement.

    Example: ops-instantly demo --weeks 4
    """
    from rich.console import Console
    from rich.table import Table

    from ops_instantly.demo import DEMO_TABLE, EXAMPLE_QUERIES, run_demo
    from tasks.report import read_reports
    from warehouse.db import Warehouse

    console = Console(width=max(Console().width, 110))
    result = run_demo(warehouse=warehouse, weeks=weeks, rows=rows, port=port, say=console.print)

    with Warehouse(result.warehouse).connect(read_only=True) as con:
        rows_ = con.execute(
            f'SELECT "Email", "Company", instantly_email_status, instantly_open_count,'
            f" instantly_reply_count, instantly_interest_status, len(instantly_campaigns)"
            f" FROM ops.{DEMO_TABLE}_engagement ORDER BY instantly_reply_count DESC, instantly_open_count DESC"
            f" LIMIT 12"
        ).fetchall()
        counted = con.execute(f"SELECT count(*) FROM ops.{DEMO_TABLE}_engagement").fetchone()
        total = counted[0] if counted else 0
        reports = read_reports(con)

    table = Table(title=f"ops.{DEMO_TABLE}_engagement (first 12 of {total} source rows)")
    for column in ("Email", "Company", "status", "opens", "replies", "interest", "campaigns"):
        table.add_column(column, no_wrap=column != "Email", overflow="ellipsis")
    for row in rows_:
        table.add_row(*["" if v is None else str(v) for v in row])
    console.print(table)

    funnel = Table(title="Funnel per campaign")
    for column in ("campaign", "leads", "contacted", "opened", "replied", "interested"):
        funnel.add_column(column, justify="right" if column != "campaign" else "left")
    for report in reports:
        if report.funnel:
            f = report.funnel
            cells = [f.leads, f.contacted, f.opened, f.replied, f.interested]
            funnel.add_row(report.name, *["n/a" if v is None else str(v) for v in cells])
    console.print(funnel)

    console.print(f"\nThe warehouse is [bold]{result.warehouse}[/bold]; the HTML report is {result.report}.")
    console.print(
        "Query it read-only from Python (or with the duckdb CLI, if installed):\n"
        f"  .venv/bin/python -c \"import duckdb; duckdb.connect('{result.warehouse}', read_only=True)"
        f".sql('SELECT * FROM ops.{DEMO_TABLE}_engagement LIMIT 5').show()\"\n",
        highlight=False,
        soft_wrap=True,
    )
    for title, sql in EXAMPLE_QUERIES:
        console.print(f"-- {title}\n{sql}\n", highlight=False)
