"""The sync's result, its markdown artifact, and recording a failed run."""

from __future__ import annotations

import contextlib
import dataclasses
import html
from dataclasses import dataclass
from datetime import date
from typing import Any

from prefect import task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from ops_core.errors import one_line
from ops_core.text import counted
from tasks.load import LOAD_ORDER
from warehouse.db import Warehouse

ARTIFACT_KEY = "sync-engagement"
TABLES = LOAD_ORDER  # the instantly.* tables a sync loads, in the order it loads them
# The engagement changes shown in the artifact: (key in counts["engagement"], column heading).
CHANGE_HEADINGS = (
    ("replies", "replies"),
    ("auto_replies", "auto-replies"),
    ("leads_replied", "leads replied"),
    ("leads_bounced", "bounced"),
    ("leads_unsubscribed", "unsubscribed"),
    ("leads_interested", "interested"),
)


@dataclass(frozen=True)
class SyncResult:
    """What one sync did: its run id (see ops.sync_runs), the API's "today", and counts per table."""

    run_id: str
    as_of: date
    counts: dict[str, Any]


def pull_summary(lead_stats: dict[str, Any], resumed_from: str | None, api_stats: Any) -> dict[str, Any]:
    """The pull's own numbers for ops.sync_runs.counts: chains, resume, requests, 429s, latency."""
    if dataclasses.is_dataclass(api_stats) and not isinstance(api_stats, type):  # an instance, not the class
        api = dataclasses.asdict(api_stats)
    else:
        api = dict(api_stats)
    return {**lead_stats, "resumed_from": resumed_from, "api": api}


def summary_lines(counts: dict[str, Any]) -> list[str]:
    """What a sync did, in the lines `ops-instantly sync` prints and the run logs (pure): per table new,
    updated and unchanged; the views; what changed since the last sync; webhook catch-up; write-back."""
    lines = []
    for table in TABLES:
        c = counts.get(table)
        if c:
            lines.append(
                f"instantly.{table}: {c['inserted']} new, {c['updated']} updated, {c['unchanged']} unchanged"
            )
    lines += [f"view {view} refreshed" for view in counts.get("views") or []]
    changed = (counts.get("engagement") or {}).get("total")
    if changed:
        replied = counted(changed["leads_replied"], "lead")
        lines.append(
            f"since the last sync: {counted(changed['replies'], 'reply', 'replies')}, "
            f"{counted(changed['auto_replies'], 'auto-reply', 'auto-replies')}, "
            f"{replied} replied for the first time, {changed['leads_bounced']:,} bounced, "
            f"{changed['leads_unsubscribed']:,} unsubscribed, {changed['leads_interested']:,} interested"
        )
    recovered = (counts.get("webhook_catch_up") or {}).get("recovered_new")
    if recovered:
        deliveries = counted(recovered, "failed delivery", "failed deliveries")
        lines.append(f"webhook catch-up: {deliveries} recovered from Instantly's delivery log")
    lines += (counts.get("webhook_catch_up") or {}).get("disabled") or []
    for table, rows in (counts.get("write_back") or {}).items():
        lines.append(f"wrote engagement to {table}: {counted(rows, 'row')} changed")
    return lines


def render_markdown(result: SyncResult) -> str:
    """The run summary as markdown (pure)."""
    lines = [
        f"# Instantly sync `{result.run_id}`",
        "",
        f"As of {result.as_of.isoformat()} (UTC).",
        "",
    ]
    lines += _engagement_lines(result.counts.get("engagement"))
    lines += [
        "| table | inserted | updated | unchanged |",
        "| --- | ---: | ---: | ---: |",
    ]
    for table in TABLES:
        c = result.counts.get(table)
        if c:
            lines.append(f"| instantly.{table} | {c['inserted']} | {c['updated']} | {c['unchanged']} |")
    views = result.counts.get("views") or []
    if views:
        lines += ["", "Engagement views: " + ", ".join(f"`{v}`" for v in views)]
    pull = result.counts.get("pull") or {}
    api = pull.get("api") or {}
    if api:
        lines += [
            "",
            f"API: {api.get('requests', 0)} requests, {api.get('rate_limited', 0)} answered 429, "
            f"{api.get('retries', 0)} retries; leads scanned in {pull.get('chains', 0)} chains on "
            f"{pull.get('workers', 0)} threads ({pull.get('chains_resumed', 0)} resumed).",
        ]
    write_back = result.counts.get("write_back")
    if write_back:
        lines += [
            "",
            "Written back to Postgres: " + ", ".join(f"{t}: {n} rows" for t, n in write_back.items()),
        ]
    return "\n".join(lines) + "\n"


def _engagement_lines(engagement: dict[str, Any] | None) -> list[str]:
    """The "since the last sync" table: totals and one row per campaign that changed."""
    if not engagement:
        return []
    total = engagement.get("total") or {}
    head = " | ".join(h for _, h in CHANGE_HEADINGS)
    since = engagement.get("since")
    when = (
        f"the last sync ({since[:16].replace('T', ' ')} UTC)"
        if since
        else "the start (this is the first sync)"
    )
    lines = [
        f"## Since {when}",
        "",
        "New reply emails received (auto-replies apart), and leads whose state changed since the last sync: "
        "first reply, now Bounced, now Unsubscribed, now Interested / Meeting Booked / Meeting Completed / Won.",
        "",
        f"| campaign | {head} |",
        "| --- |" + " ---: |" * len(CHANGE_HEADINGS),
    ]
    for row in engagement.get("campaigns") or []:
        name = _cell(row.get("campaign_name") or row.get("campaign_id") or "(no campaign)")
        lines.append(f"| {name} | " + " | ".join(str(row.get(k, 0)) for k, _ in CHANGE_HEADINGS) + " |")
    lines.append("| **all** | " + " | ".join(f"**{total.get(k, 0)}**" for k, _ in CHANGE_HEADINGS) + " |")
    return [*lines, "", "## Rows written", ""]


def _cell(text: str) -> str:
    """Text for a markdown table cell: pipes, markup and line breaks made harmless."""
    return html.escape(" ".join(str(text).split())).replace("|", "&#124;")


@task(name="publish_sync_summary", retries=0, cache_policy=NO_CACHE)
def publish_summary(result: SyncResult) -> None:
    """Publish the run summary as the `sync-engagement` markdown artifact."""
    create_markdown_artifact(key=ARTIFACT_KEY, markdown=render_markdown(result), description="Instantly sync")


def record_failure(warehouse: Warehouse, run_id: str, exc: BaseException) -> None:
    """Mark the run failed in ops.sync_runs; never hides the original error (e.g. if the file is locked)."""
    with contextlib.suppress(Exception):
        warehouse.finish_run(run_id, "failed", {}, message=one_line(exc))
