"""build_report: an HTML campaign report from the warehouse, and a Prefect markdown artifact of its numbers.

Example:
    ```python
    from flows.build_report import build_report

    build_report(out="reports/campaigns.html", warehouse="warehouse.duckdb")
    ```
"""

from __future__ import annotations

from collections.abc import Sequence

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact

from blocks import resolve_warehouse
from tasks.report import collect_report, render_html, render_markdown, write_report

__all__ = ["build_report"]

ARTIFACT_KEY = "campaign-report"


@task(name="publish-report-artifact")
def publish_report_artifact(markdown: str) -> None:
    """Publish the key numbers as the `campaign-report` markdown artifact."""
    create_markdown_artifact(key=ARTIFACT_KEY, markdown=markdown, description="Instantly campaign report")


@flow(name="build-report", log_prints=True)
def build_report(
    campaigns: Sequence[str] = (),
    out: str = "report.html",
    warehouse: str = "",
) -> str:
    """Write a self-contained HTML report (daily chart and funnel per campaign) and publish its key numbers.

    Args:
        campaigns: The campaigns to report on, by name or id. Empty: every campaign in the warehouse.
        out: Where to write the HTML file.
        warehouse: The warehouse file. Empty: OPS_WAREHOUSE on the worker, or ./warehouse.duckdb.

    Returns:
        The path of the HTML file.
    """
    store = resolve_warehouse(None, warehouse or None)
    reports = collect_report(store, list(campaigns) or None)
    path = write_report(render_html(reports), out)
    publish_report_artifact(render_markdown(reports, str(path)))
    print(f"wrote {path} ({len(reports)} campaign(s))")
    return str(path)
