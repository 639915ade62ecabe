"""build_report: an HTML campaign report from the warehouse, and Prefect artifacts of its key numbers.

Example:
    ```python
    from flows.build_report import build_report

    build_report(out="reports/campaigns.html", by="Industry", warehouse="warehouse.duckdb")
    ```
"""

from __future__ import annotations

from collections.abc import Sequence

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact

from blocks import resolve_warehouse
from flows._parameters import TextWithoutPassword
from tasks.report import Report, collect_report, render_html, render_markdown, report_tables, write_report

__all__ = ["build_report"]

ARTIFACT_KEY = "campaign-report"


@task(name="publish-report-artifact")
def publish_report_artifact(markdown: str, report: Report) -> None:
    """Publish the headline numbers as the `campaign-report` markdown artifact, and the key tables as
    `campaign-report-headline`, `-variants` and `-segments` table artifacts (the UI cannot open the HTML file).
    """
    create_markdown_artifact(key=ARTIFACT_KEY, markdown=markdown, description="Instantly campaign report")
    for name, rows in report_tables(report).items():
        if rows:
            create_table_artifact(
                key=f"{ARTIFACT_KEY}-{name}", table=rows, description=f"Instantly campaign report: {name}"
            )


@flow(name="build-report", log_prints=True)
def build_report(
    campaigns: Sequence[str] = (),
    out: str = "report.html",
    by: str = "",
    warehouse: TextWithoutPassword = "",
) -> str:
    """Write a self-contained HTML report and publish its key numbers as artifacts.

    The report has headline rates for its date range, a daily chart over every day of the range, the funnel,
    step and variant tables (winner marked) and, with `by`, the reply rate per value of a source column.

    Args:
        campaigns: The campaigns to report on, by name or id. Empty: every campaign in the warehouse.
        out: Where to write the HTML file.
        by: A source column (e.g. "Industry") to break the reply rate down by. Empty: no breakdown.
        warehouse: The warehouse file or DuckLake URL, without a password (PGPASSWORD or ~/.pgpass on the worker).
            Empty: OPS_WAREHOUSE on the worker, or ./warehouse.duckdb.

    Returns:
        The path of the HTML file.
    """
    store = resolve_warehouse(None, warehouse or None)
    report = collect_report(store, list(campaigns) or None, by or None)
    path = write_report(render_html(report), out)
    publish_report_artifact(render_markdown(report, str(path)), report)
    print(f"wrote {path} ({len(report.campaigns)} campaign(s))")
    return str(path)
