"""build_report: an HTML campaign report from the warehouse, and a Prefect markdown artifact of its numbers.

Example:
    ```python
    from flows.build_report import build_report

    build_report(out="reports/campaigns.html", warehouse_block="default")
    ```
"""

from __future__ import annotations

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
    campaigns: list[str] | None = None,
    out: str = "report.html",
    warehouse_block: str | None = None,
    warehouse_path: str | None = None,
) -> str:
    """Write a self-contained HTML report (daily chart and funnel per campaign) and publish its key numbers.

    Args:
        campaigns: campaign ids or names (all campaigns in the warehouse when empty).
        out: path of the HTML file.
        warehouse_block: a `DuckDBWarehouse` block name (default: OPS_WAREHOUSE or ./warehouse.duckdb).
        warehouse_path: a warehouse file path (wins over the block).

    Returns:
        The path of the HTML file.
    """
    warehouse = resolve_warehouse(warehouse_block, warehouse_path)
    reports = collect_report(warehouse, campaigns or None)
    path = write_report(render_html(reports), out)
    publish_report_artifact(render_markdown(reports, str(path)))
    print(f"wrote {path} ({len(reports)} campaign(s))")
    return str(path)
