"""`push_leads`: push an Ops table to one or more Instantly campaigns, exactly once, with per-row outcomes.

Example:
    ```python
    from flows.push_leads import PushParams, push_leads

    push_leads(PushParams(source="leads.csv", campaigns=["Q3 founders"]))
    ```
"""

from __future__ import annotations

import uuid
from typing import Any, Literal

from prefect import flow, task
from prefect.cache_policies import NONE
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from blocks import PostgresSource, resolve_credentials, resolve_warehouse
from ops_instantly.errors import OpsError
from tasks.extract import SourceSpec, describe_source, extract_source, redact_url, source_kind
from tasks.mapping import load_mapping_file, parse_overrides, resolve_mapping
from tasks.push import (
    ArtifactProgress,
    preview_push,
    publish_dry_run,
    publish_push_artifacts,
    push_to_campaign,
    resolve_campaigns,
)
from tasks.push_plan import MAX_LEADS_PER_ADD, SKIP_HINT
from warehouse.connections import plan_connected_pushes, read_connections

__all__ = ["PushParams", "push_leads", "push_table"]


class PushParams(BaseModel):
    """What to push where. The Prefect UI shows this as the run form."""

    model_config = ConfigDict(extra="forbid")

    source: str | None = Field(
        None,
        description="CSV, Excel or Parquet path, duckdb:///path.duckdb, or postgresql://user@host/db "
        "(put passwords in source_url or a Postgres Source block).",
    )
    source_url: SecretStr | None = Field(None, description="A source URL holding a password (kept secret).")
    source_block: str | None = Field(None, description="Postgres Source block with the connection URL.")
    table: str | None = Field(None, description="Table to read (DuckDB, Postgres); names the warehouse copy.")
    query: str | None = Field(None, description="Postgres query to read instead of a table.")
    sheet: str | None = Field(None, description="The sheet of an Excel source (default: the first).")
    key: str | None = Field(None, description="Column with a stable row key (default: the normalised email).")
    campaigns: list[str] = Field(
        default_factory=list,
        description="Campaign ids or exact names. With no source and no campaigns, every connected table "
        "(ops-instantly connect-table) is pushed to its campaigns.",
    )
    mapping: str | None = Field(None, description="YAML/JSON mapping file: fields, rename, exclude.")
    mapping_rules: dict[str, Any] | None = Field(
        None, description="The content of a mapping file (fields, rename, exclude), instead of a path."
    )
    skip_if: Literal["in_campaign", "in_workspace", "none"] = Field(
        "in_campaign", description=f"Skip leads already in a campaign / the workspace. {SKIP_HINT}."
    )
    dry_run: bool = Field(False, description="Show the mapping, validation and first payloads; send nothing.")
    batch_size: int = Field(MAX_LEADS_PER_ADD, ge=1, le=MAX_LEADS_PER_ADD, description="Leads per bulk add.")
    timeout: float = Field(30.0, gt=0, le=600, description="Seconds to wait for each API response.")
    credentials_block: str | None = Field(
        None, description="InstantlyCredentials block name (default: INSTANTLY_* environment variables)."
    )
    warehouse_block: str | None = Field(None, description="DuckDBWarehouse block name.")
    warehouse_path: str | None = Field(
        None, description="DuckDB file (wins over the block; default: OPS_WAREHOUSE or ./warehouse.duckdb)."
    )


@task(name="resolve_source", retries=0, cache_policy=NONE)
def resolve_source(params: PushParams) -> SourceSpec:
    """The source to read, with the Postgres URL from source_url or the Postgres Source block."""
    schema = "public"
    url = params.source_url.get_secret_value() if params.source_url else params.source
    if params.source_block:
        try:
            block = PostgresSource.load(params.source_block)
        except ValueError:
            raise OpsError(
                f"No Postgres Source block named {params.source_block!r}.",
                hint="create it with `ops-instantly connect` or in the Prefect UI",
            ) from None
        url, schema = block.url.get_secret_value(), block.schema_name
    if not url:
        raise OpsError("No source given.", hint="pass --source PATH_OR_URL (or --source-block NAME)")
    if source_kind(url) == "postgres" and not (params.table or params.query):
        raise OpsError(f"Reading {redact_url(url)} needs --table or --query.", hint="add --table NAME")
    if params.sheet and source_kind(url) != "excel":
        raise OpsError("--sheet is for Excel sources (.xlsx, .xls, .ods).", hint="leave --sheet out")
    return SourceSpec(source=url, table=params.table, query=params.query, schema=schema, sheet=params.sheet)


def _run_id() -> str:
    from prefect.runtime import flow_run

    return str(flow_run.get_id() or uuid.uuid4())


@flow(name="push-leads", log_prints=True)
def push_leads(params: PushParams | None = None) -> dict[str, Any]:
    """Push a table to its campaigns exactly once; with no source, push every connected table.

    Returns a JSON-able summary: run id, table, rows and per-campaign outcome counts (or the dry-run
    preview); for connected tables, `{"tables": [one summary per table]}`.
    """
    params = params or PushParams()
    if params.source or params.source_url or params.source_block:
        return push_table(params)
    jobs = connected_pushes(params)
    return {"run_id": _run_id(), "tables": [push_table(job) for job in jobs]}


@task(name="connected_pushes", retries=0, cache_policy=NONE)
def connected_pushes(params: PushParams) -> list[PushParams]:
    """One push per connected table (ops.connections), carrying this run's settings."""
    warehouse = resolve_warehouse(params.warehouse_block, params.warehouse_path)
    if params.campaigns:
        raise OpsError("--campaign needs --source.", hint="or push every connected table with no arguments")
    connected = read_connections(warehouse) if warehouse.path.exists() else []
    if not connected:
        raise OpsError(
            "Nothing to push: no source given and no table is connected to a campaign.",
            hint="pass --source and --campaign, or run `ops-instantly connect-table` first",
        )
    return [
        params.model_copy(update=dict(source=None, source_url=None, source_block=None) | update)
        for update in plan_connected_pushes(connected)
    ]


@flow(name="push-table", log_prints=True)
def push_table(params: PushParams) -> dict[str, Any]:
    """Extract one table, map and validate it, and push it to every campaign exactly once."""
    run_id = _run_id()
    warehouse = resolve_warehouse(params.warehouse_block, params.warehouse_path)
    spec = resolve_source(params)
    overrides = (
        parse_overrides(params.mapping_rules, origin="the connection's mapping")
        if params.mapping_rules is not None
        else load_mapping_file(params.mapping)
    )
    mapping = resolve_mapping(describe_source(spec), overrides)

    if params.dry_run:
        # The campaigns are looked up too (reads only): a misspelt name fails the dry run, not the real push.
        targets = (
            resolve_campaigns(resolve_credentials(params.credentials_block), params.campaigns)
            if params.campaigns
            else []
        )
        table = extract_source(
            spec, warehouse, email_column=mapping.email_column, key_column=params.key, run_id=run_id
        )
        mapping = mapping.without_empty(table.empty_columns)
        preview = preview_push(warehouse, table, mapping)
        publish_dry_run(preview)
        return {
            "run_id": run_id,
            "dry_run": True,
            "table": table.name,
            "rows": table.row_count,
            "campaigns": [{"id": c.id, "name": c.name} for c in targets],
            "mapping": preview.mapping,
            "validation": preview.validation,
            "examples": preview.examples,
            "payloads": preview.payloads,
        }

    if not params.campaigns:
        raise OpsError("No campaign given.", hint="pass --campaign ID_OR_NAME (repeatable)")
    credentials = resolve_credentials(params.credentials_block)
    campaigns = resolve_campaigns(credentials, params.campaigns)
    warehouse.start_run(run_id, "push-leads")
    try:
        table = extract_source(
            spec, warehouse, email_column=mapping.email_column, key_column=params.key, run_id=run_id
        )
        mapping = mapping.without_empty(table.empty_columns)
        progress = ArtifactProgress(table.row_count, len(campaigns))
        reports = [
            push_to_campaign(
                credentials,
                warehouse,
                table,
                mapping,
                campaign,
                run_id=run_id,
                skip_mode=params.skip_if,
                batch_size=params.batch_size,
                timeout=params.timeout,
                listeners=[progress],
                siblings=[c.id for c in campaigns],
            )
            for campaign in campaigns
        ]
    except BaseException as exc:
        warehouse.finish_run(run_id, "failed", {}, message=str(exc)[:500])
        raise
    counts = {r.campaign_id: dict(r.counts) for r in reports}
    warehouse.finish_run(
        run_id, "completed", {"table": table.name, "rows": table.row_count, "outcomes": counts}
    )
    publish_push_artifacts(table, reports, run_id)
    return {
        "run_id": run_id,
        "dry_run": False,
        "table": table.name,
        "rows": table.row_count,
        "skip_hint": SKIP_HINT if any(r.counts.get("skipped") for r in reports) else None,
        "campaigns": [
            {
                "id": r.campaign_id,
                "name": r.campaign_name,
                "counts": dict(r.counts),
                "requests": r.requests,
                "reconciled": r.reconciled,
                "unresolved": r.unresolved,
                "guard_lifted": r.guard_lifted,
                "seconds": round(r.seconds, 2),
            }
            for r in reports
        ],
    }
