"""`push_leads`: push an Ops table to one or more Instantly campaigns, exactly once, with per-row outcomes.

The flow's parameters are the Prefect UI's run form: flat, typed, with defaults; no secret among them (a
Postgres password lives in a `PostgresSource` block, the API key in an `InstantlyCredentials` block).

Example:
    ```python
    from blocks import InstantlyCredentials
    from flows.push_leads import push_leads

    push_leads(
        credentials=InstantlyCredentials.load("default"),
        source="leads.csv",
        campaigns=["Q3 founders"],
    )
    ```
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, TypedDict, Unpack

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NONE
from prefect.context import FlowRunContext
from pydantic import Field
from pydantic.json_schema import SkipJsonSchema

from blocks import (
    InstantlyCredentials,
    PostgresSource,
    check_postgres_source_saved,
    load_postgres_source,
    resolve_credentials,
    resolve_warehouse,
)
from flows._parameters import TextWithoutPassword
from ops_core.bounds import MAX_LEADS_PER_ADD, MAX_TIMEOUT_SECONDS, MAX_WAIT_SECONDS, MIN_TIMEOUT_SECONDS
from ops_core.errors import OpsError
from ops_core.interface import bare_option, capitalized, in_cli, option, set_option
from ops_core.sources import absolute_source
from ops_core.text import counted
from tasks.extract import (
    ExtractedTable,
    describe_source,
    extract_source,
    redact_url,
    refuse_another_source,
    source_kind,
)
from tasks.mapping import MappingOverrides, load_mapping_file, parse_overrides
from tasks.push import (
    ArtifactProgress,
    CampaignRef,
    MissingCampaign,
    TablePushReport,
    find_campaigns,
    preview_push,
    publish_dry_run,
    publish_push_artifacts,
    push_to_campaign,
    resolve_campaigns,
)
from tasks.push_engine import CampaignReport
from tasks.push_models import describe_requests
from tasks.push_plan import duplicate_hint, skip_hint
from tasks.source_header import SourceSpec, check_header, header_mapping, table_name_for
from warehouse.connections import Connection, plan_connected_pushes, read_connections
from warehouse.db import Warehouse
from warehouse.push_guard import DEFAULT_WAIT_SECONDS, push_guard
from warehouse.scratch import ScratchWarehouse

__all__ = [
    "PartlyPushedError",
    "SkipIf",
    "SourceParameters",
    "TablePush",
    "check_connection",
    "check_source",
    "preview_push_leads",
    "push_leads",
]

SkipIf = Literal["in_campaign", "in_workspace", "none"]


class PartlyPushedError(OpsError):
    """The push reached some of its campaigns or connected tables and not others (one deleted in Instantly,
    a source that moved): the run failed, naming what was not pushed where.

    Attributes:
        pushed: what was pushed, shaped as `push_leads` returns it (one table's summary, or `{"run_id",
            "tables"}` for connected tables), so a caller can show those outcomes with the error.
    """

    def __init__(self, message: str, *, hint: str | None, pushed: dict[str, Any]) -> None:
        super().__init__(message, hint=hint)
        self.pushed = pushed


class SourceParameters(TypedDict, total=False):
    """The flow's parameters that say which table to push, and to which campaigns (as for `push_leads`)."""

    source: str
    postgres_source: str
    postgres: PostgresSource | None
    table: str
    query: str
    sheet: str
    campaigns: Sequence[str]
    key_column: str
    mapping_file: str


@dataclass(frozen=True)
class TablePush:
    """One table to push: where to read it, and to which campaigns (built from the flow's parameters or
    from a connected table in ops.connections).

    Attributes:
        source: a file path, `duckdb:///path`, or a `postgresql://` URL without a password ("" with postgres).
        postgres: a Postgres Source block to read from (its URL holds the password).
        postgres_block: the name of a saved Postgres Source block (connected tables store the name).
        mapping_rules: a mapping file's content (connected tables), else `mapping_file` is read.
    """

    campaigns: tuple[str, ...]
    campaign_names: tuple[str, ...] = ()  # a connected table: each campaign's name when it was connected
    source: str = ""
    postgres: PostgresSource | None = None
    postgres_block: str = ""
    table: str = ""
    query: str = ""
    sheet: str = ""
    key_column: str = ""
    mapping_file: str = ""
    mapping_rules: dict[str, Any] | None = None

    @classmethod
    def given(cls, **parameters: Unpack[SourceParameters]) -> TablePush:
        """The table the flow's source parameters name (`postgres_source` is the block's name)."""
        return cls(
            campaigns=tuple(parameters.get("campaigns", ())),
            source=parameters.get("source", ""),
            postgres=parameters.get("postgres"),
            postgres_block=parameters.get("postgres_source", ""),
            table=parameters.get("table", ""),
            query=parameters.get("query", ""),
            sheet=parameters.get("sheet", ""),
            key_column=parameters.get("key_column", ""),
            mapping_file=parameters.get("mapping_file", ""),
        )

    @property
    def names_a_source(self) -> bool:
        return bool(self.source or self.postgres_block or self.postgres is not None)


@task(name="resolve_source", retries=0, cache_policy=NONE)
def resolve_source(job: TablePush) -> SourceSpec:
    """The source to read, with the Postgres URL taken from the block (never from a parameter).

    Raises:
        OpsError: no source, a password in `source`, an unknown block, or Postgres without a table/query.
    """
    postgres = load_postgres_source(job.postgres_block) if job.postgres_block else job.postgres
    if postgres is not None:
        _check_source(postgres.url.get_secret_value(), job)
        return _spec(postgres.url.get_secret_value(), postgres.schema_name, job)
    _check_source(job.source, job)
    return _spec(job.source, "public", job)


def check_source(job: TablePush) -> None:
    """What `resolve_source` refuses, checked before Prefect's API is started (the CLI, before a run): a
    Postgres Source block that is certainly not saved (blocks/_local.py), and every mistake in the
    parameters themselves. A block's URL is not read here.

    Raises:
        OpsError: as `resolve_source` does.
    """
    if job.postgres_block:
        check_postgres_source_saved(job.postgres_block)
        _check_source("postgresql://", job)  # a block always names a Postgres database
    elif job.postgres is not None:
        _check_source(job.postgres.url.get_secret_value(), job)
    else:
        _check_source(job.source, job)


def _check_source(url: str, job: TablePush) -> None:
    if job.postgres is None and not job.postgres_block and redact_url(url) != url:
        raise OpsError(
            f"The source {redact_url(url)} carries a password, and run parameters are not secret.",
            hint=f"save the URL in a Postgres Source block and name it in {option('postgres_source')}",
        )
    if not url:
        block = bare_option("postgres_source", metavar="NAME")
        raise OpsError("No source given.", hint=f"{set_option('source', metavar='PATH_OR_URL')} (or {block})")
    kind = source_kind(url)
    if kind == "postgres" and not (job.table or job.query):
        raise OpsError(
            f"Reading {redact_url(url)} needs {option('table', 'query')}.",
            hint=set_option("table", metavar="NAME", verb="add"),
        )
    if kind == "duckdb" and not job.table:
        raise OpsError(
            f"{capitalized(option('table'))} is needed to read from {redact_url(url)}.",
            hint=set_option("table", metavar="NAME", verb="add"),
        )
    if job.query and kind != "postgres":
        raise OpsError(
            f"{capitalized(option('query'))} is for Postgres sources, not {redact_url(url)}.",
            hint=f"leave {option('query')} out"
            + (f" and name the table with {option('table')}" if kind == "duckdb" else ""),
        )
    if job.sheet and kind != "excel":
        raise OpsError(
            f"{capitalized(option('sheet'))} is for Excel sources (.xlsx, .xls, .ods).",
            hint=f"leave {option('sheet')} out",
        )


def _spec(url: str, schema: str, job: TablePush) -> SourceSpec:
    return SourceSpec(
        source=url, table=job.table or None, query=job.query or None, schema=schema, sheet=job.sheet or None
    )


def _run_id() -> str:
    from prefect.runtime import flow_run

    return str(flow_run.get_id() or uuid.uuid4())


@flow(name="push-leads", log_prints=True)
def push_leads(
    credentials: InstantlyCredentials | SkipJsonSchema[None] = None,
    source: TextWithoutPassword = "",
    postgres_source: str = "",
    table: str = "",
    query: str = "",
    sheet: str = "",
    campaigns: Sequence[str] = (),
    key_column: str = "",
    mapping_file: str = "",
    skip_if: SkipIf = "in_campaign",
    dry_run: bool = False,
    batch_size: Annotated[int, Field(ge=1, le=MAX_LEADS_PER_ADD)] = MAX_LEADS_PER_ADD,
    timeout_seconds: Annotated[float, Field(ge=MIN_TIMEOUT_SECONDS, le=MAX_TIMEOUT_SECONDS)] = 30.0,
    wait_seconds: Annotated[float, Field(ge=0, le=MAX_WAIT_SECONDS)] = DEFAULT_WAIT_SECONDS,
    warehouse: TextWithoutPassword = "",
    postgres: SkipJsonSchema[PostgresSource | None] = None,
) -> dict[str, Any]:
    """Push a table to Instantly campaigns as leads, exactly once; with no source, push every connected table.

    Re-runs send only new or changed rows. Every row gets an outcome in `ops.push_results` (created,
    updated, unchanged, duplicate, skipped, blocklisted, invalid, rejected) under this run's id; the run's
    logs and artifacts show the counts per campaign.

    Args:
        credentials: The Instantly workspace to push to. Empty: the block named by OPS_CREDENTIALS_BLOCK on the worker, else its INSTANTLY_API_KEY, else the block named default.
        source: A CSV, Excel or Parquet file, a DuckDB file (duckdb:///path.duckdb), or a Postgres URL without a
            password. Leave it and postgres_source empty to push every table connected to a campaign.
        postgres_source: The name of a saved Postgres Source block to read the table from (Blocks in the
            UI); the block keeps the password.
        table: The table to read from DuckDB or Postgres. It also names the warehouse copy (ops.TABLE).
        query: A Postgres query to read instead of a table.
        sheet: The sheet of an Excel file. Empty: the first.
        campaigns: The campaigns to add the leads to, by name or id.
        key_column: A column that identifies a row for good. Empty: the lead's email.
        mapping_file: A YAML or JSON file saying which column is which lead field.
        skip_if: Leave out leads that are already in a campaign outside this push (in_campaign; the
            campaigns pushed together do not block each other), anywhere in the workspace (in_workspace),
            or push them anyway (none).
        dry_run: Only show the mapping, the validation and the first leads; send and write nothing.
        batch_size: Leads per request (Instantly takes up to 1,000).
        timeout_seconds: How long to wait for each Instantly response.
        wait_seconds: How long to wait for another push of the same table to this warehouse to end (a
            schedule firing while a run is still going) before failing; 0 fails at once.
        warehouse: The warehouse file or DuckLake URL, without a password (PGPASSWORD or ~/.pgpass on the worker).
            Empty: OPS_WAREHOUSE on the worker, or ./warehouse.duckdb.
        postgres: A Postgres connection that is not saved as a block (in-process callers such as the CLI's
            `--source postgresql://user:password@...`). Not part of the UI's form or a deployment.

    Returns:
        A JSON-able summary: the run id, the table, its rows and per-campaign outcome counts (or the dry
        run's preview); with no source, `{"run_id": ..., "tables": [one summary per table]}`.

    Raises:
        OpsError: bad input (no campaign, unknown campaign or block, a password in `source`), in one line.
            With no source (every connected table), a table that fails is logged and the others are still
            pushed; the run then fails naming each table not pushed and why.
    """
    given = TablePush.given(
        source=source,
        postgres_source=postgres_source,
        postgres=postgres,
        table=table,
        query=query,
        sheet=sheet,
        campaigns=campaigns,
        key_column=key_column,
        mapping_file=mapping_file,
    )
    if dry_run:
        return _preview(credentials, given, warehouse)
    run_id = _run_id()
    store = resolve_warehouse(None, warehouse or None)
    one_table, jobs = _table_pushes(store, given)
    if any(not job.campaigns for job in jobs):
        raise OpsError("No campaign given.", hint=set_option("campaigns", metavar="ID_OR_NAME (repeatable)"))
    creds = resolve_credentials(credentials)
    store.start_run(run_id, "push-leads")
    reports: list[TablePushReport] = []
    not_pushed: list[str] = []  # "table: why", for connected tables whose push failed
    partly: list[tuple[str, str]] = []  # (why, hint) for tables pushed to some of their campaigns only
    try:
        for job in jobs:
            try:
                report = _push_table(
                    creds, store, job, run_id, skip_if, batch_size, timeout_seconds, wait_seconds
                )
                reports.append(report)
                if report.missing:
                    pushed_to = [c.campaign_name for c in report.campaigns]
                    why = _missing_line(report.table.name, job, report.missing, pushed_to)
                    partly.append((why, _missing_hint(job, report.missing)))
            except Exception as exc:
                if len(jobs) == 1:
                    raise
                # One connected table that fails (a campaign deleted in Instantly, a source that moved) does
                # not keep the others from their scheduled push; the run still ends failed, naming it (the
                # failed step has logged its own error line).
                not_pushed.append(f"{job.table}: {exc}")
    except BaseException as exc:
        store.finish_run(run_id, "failed", {}, message=str(exc)[:500])
        raise
    outcomes = {
        "tables": [
            {"table": r.table.name, "rows": r.table.row_count, "outcomes": r.counts()} for r in reports
        ]
    }
    problems = [why for why, _ in partly]
    if reports or not_pushed:
        # The tables that failed are in the summary too: a run from the UI shows them beside the others.
        publish_push_artifacts(reports, run_id, [*not_pushed, *problems])
    if not_pushed:
        tables = f"{len(not_pushed)} of {len(jobs)} connected tables not pushed: " + "; ".join(not_pushed)
        problems.insert(0, tables)
    if problems:
        # A campaign deleted in Instantly: the others got the table and their rows' outcomes are recorded;
        # the run still fails, in one line naming what was not pushed where.
        message = "; ".join(problems)
        store.finish_run(run_id, "failed", outcomes, message=message[:500])
        if reports:
            _log_outcomes_query(store, run_id)
        if not not_pushed:
            hint = partly[0][1]
        elif len(not_pushed) < len(jobs):
            hint = "the other tables were pushed; fix these and run the push again"
        else:
            hint = "fix these and run the push again"
        raise PartlyPushedError(
            message, hint=hint, pushed=_summaries(reports, run_id, one_table) if reports else {}
        )
    store.finish_run(run_id, "completed", outcomes)
    _log_outcomes_query(store, run_id)
    return _summaries(reports, run_id, one_table)


def _summaries(reports: list[TablePushReport], run_id: str, one_table: bool) -> dict[str, Any]:
    """What `push_leads` returns: one table's summary, or every connected table's."""
    summaries = [_summary(r, run_id) for r in reports]
    return summaries[0] if one_table else {"run_id": run_id, "tables": summaries}


def preview_push_leads(
    credentials: InstantlyCredentials | None = None,
    *,
    warehouse: str = "",
    **parameters: Unpack[SourceParameters],
) -> dict[str, Any]:
    """The dry run: what `push_leads(..., dry_run=True)` returns, and inside a flow run what it does.

    Outside a flow run (`ops-instantly push --dry-run`) the steps run as plain functions: no Prefect run is
    recorded and no Prefect API is started. Nothing is sent and nothing is written: the source is read into
    an in-memory warehouse (`warehouse.scratch`), and the real one is only read. Arguments as for
    `push_leads` (`SourceParameters`).

    Returns:
        The preview of the table (its mapping, validation counts, examples and first payloads, the
        campaigns found); with no source, `{"run_id": ..., "tables": [one preview per connected table]}`.

    Raises:
        OpsError: bad input (an unknown campaign or block, a password in `source`), in one line.
    """
    return _preview(credentials, TablePush.given(**parameters), warehouse)


def _preview(credentials: InstantlyCredentials | None, given: TablePush, warehouse: str) -> dict[str, Any]:
    run_id = _run_id()
    store = resolve_warehouse(None, warehouse or None)
    store.check_location()  # a mistyped warehouse path fails the dry run as it would fail the push
    one_table, jobs = _table_pushes(store, given)
    with ScratchWarehouse() as scratch:
        previews = [_dry_run(credentials, store, scratch, job, run_id) for job in jobs]
    return previews[0] if one_table else {"run_id": run_id, "tables": previews}


def _table_pushes(store: Warehouse, given: TablePush) -> tuple[bool, list[TablePush]]:
    """(one table named?, the tables to push): the one the parameters name, else every connected table."""
    if given.names_a_source:
        return True, [given]
    if given.campaigns:
        hint = (
            "or push every connected table with no arguments"
            if in_cli()
            else f"or leave {option('campaigns')} empty to push every connected table"
        )
        raise OpsError(f"{capitalized(option('campaigns'))} needs {option('source')}.", hint=hint)
    return False, _step(connected_pushes, store)


def _step(step: Any, *args: Any, **kwargs: Any) -> Any:
    """Run a task: as a task run inside a flow run, as its plain function outside one (the dry run of
    `ops-instantly push --dry-run`, which records no run and starts no Prefect API)."""
    return step(*args, **kwargs) if FlowRunContext.get() is not None else step.fn(*args, **kwargs)


@task(name="connected_pushes", retries=0, cache_policy=NONE)
def connected_pushes(store: Warehouse) -> list[TablePush]:
    """One push per connected table (ops.connections).

    Raises:
        OpsError: nothing is connected, or a connection has no source.
    """
    connected = read_connections(store) if store.exists() else []
    if not connected:
        raise OpsError(
            "Nothing to push: no source given and no table is connected to a campaign in the warehouse "
            f"{store.display}{'' if store.exists() else ' (there is none yet)'}.",
            hint=f"{set_option('source', 'campaigns')}, or run `ops-instantly connect-table` first (with the "
            "same OPS_WAREHOUSE or --warehouse as this run: a worker's may differ from your shell's)",
        )
    return _connected_jobs(connected)


def _connected_jobs(connected: list[Connection]) -> list[TablePush]:
    jobs = []
    for plan in plan_connected_pushes(connected):
        block = plan.get("source_block") or ""
        jobs.append(
            TablePush(
                campaigns=tuple(plan["campaigns"]),
                campaign_names=tuple(plan.get("campaign_names") or ()),
                source="" if block else plan["source"],
                postgres_block=block,
                table=plan["table"] or "",
                query=plan.get("query") or "",
                sheet=plan.get("sheet") or "",
                key_column=plan.get("key") or "",
                mapping_rules=plan["mapping_rules"],
            )
        )
    return jobs


def _mapping(job: TablePush, spec: SourceSpec) -> Any:
    return header_mapping(spec, _step(describe_source, spec), _overrides(job))


def _overrides(job: TablePush) -> MappingOverrides:
    if job.mapping_rules is not None:
        return parse_overrides(job.mapping_rules, origin="the connection's mapping")
    return load_mapping_file(job.mapping_file or None)


def check_connection(connection: Connection) -> None:
    """Read a connection's source header now, as the push of its table will (`connect-table` with a Postgres
    Source block, whose URL only Prefect's API gives; other sources are checked without Prefect:
    `tasks.source_header.check_header`). Reads no row and sends nothing.

    Raises:
        OpsError: what the push would refuse in the header (`check_header`); `SourceUnreachableError` when a
            Postgres server cannot be reached from here.
    """
    for job in _connected_jobs([connection]):
        check_header(resolve_source.fn(job), _overrides(job), job.key_column or None)


def _dry_run(
    credentials: InstantlyCredentials | None,
    store: Warehouse,
    scratch: Warehouse,
    job: TablePush,
    run_id: str,
) -> dict[str, Any]:
    """The push's steps up to the first request, with `scratch` (in memory) as the warehouse they write to;
    `store`, the real one, is only read."""
    spec = _step(resolve_source, job)
    mapping = _mapping(job, spec)
    # The campaigns are looked up too (reads only): a misspelt name fails the dry run, not the real push.
    targets = (
        _step(
            resolve_campaigns,
            resolve_credentials(credentials),
            list(job.campaigns),
        )
        if job.campaigns
        else []
    )
    refuse_another_source(store, spec)
    table = _step(
        extract_source,
        spec,
        scratch,
        email_column=mapping.email_column,
        key_column=job.key_column or None,
        run_id=run_id,
    )
    mapping = mapping.without_empty(table.empty_columns)
    preview = _step(preview_push, scratch, table, mapping)
    if FlowRunContext.get() is not None:  # the run's artifact and log; the CLI prints the preview itself
        publish_dry_run(preview)
        get_run_logger().info(
            "Dry run of ops.%s (%s): %s; nothing sent",
            table.name,
            counted(table.row_count, "row"),
            ", ".join(f"{k} {v:,}" for k, v in sorted(preview.validation.items())) or "no rows",
        )
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


def _push_table(
    credentials: InstantlyCredentials,
    store: Warehouse,
    job: TablePush,
    run_id: str,
    skip_if: str,
    batch_size: int,
    timeout: float,
    wait: float,
) -> TablePushReport:
    """Extract one table, map and validate it, and push it to each of its campaigns exactly once.

    One push of a table at a time (warehouse/push_guard.py): a second one waits here, before its extract,
    for the first to end, then finds the first's outcomes in the ledger.
    """
    _refuse_a_gone_connected_file(job)
    spec = resolve_source(job)
    mapping = _mapping(job, spec)
    campaigns: list[CampaignRef]
    campaigns, missing = find_campaigns(credentials, list(job.campaigns))
    logger = get_run_logger()
    if missing and not campaigns:
        raise OpsError(_missing_line(table_name_for(spec), job, missing), hint=_missing_hint(job, missing))
    for each in missing:  # a campaign deleted in Instantly: the others are pushed, then the run fails
        logger.error("Campaign %s: nothing sent to it; pushing to the others", _missing_name(job, each))
    with push_guard(store, table_name_for(spec), run_id=run_id, wait=wait, warn=logger.warning):
        table: ExtractedTable = extract_source(
            spec, store, email_column=mapping.email_column, key_column=job.key_column or None, run_id=run_id
        )
        mapping = mapping.without_empty(table.empty_columns)
        progress = ArtifactProgress(table.name, table.row_count, len(campaigns))
        reports: list[CampaignReport] = []
        for campaign in campaigns:
            report = push_to_campaign(
                credentials,
                store,
                table,
                mapping,
                campaign,
                run_id=run_id,
                skip_mode=skip_if,
                batch_size=batch_size,
                timeout=timeout,
                listeners=[progress],
                siblings=[c.id for c in campaigns],
            )
            reports.append(report)
            counts = ", ".join(f"{k} {v:,}" for k, v in report.counts.items() if v) or "nothing to send"
            if report.created_earlier:  # not this run's doing: an interrupted run's, found by a lookup
                counts += f" (of the created, {report.created_earlier:,} by an interrupted earlier run)"
            logger.info(
                "ops.%s -> campaign %r: %s (%s: %s; %.1f s)",
                table.name,
                report.campaign_name,
                counts,
                counted(report.requests, "request"),
                describe_requests(report.requests_by_kind()),
                report.seconds,
            )
    return TablePushReport(table=table, campaigns=reports, missing=missing)


def _missing_name(job: TablePush, missing: MissingCampaign) -> str:
    """`'Beta' (0199...)` for a connected campaign (its name as connected), else what was asked for."""
    name = dict(zip(job.campaigns, job.campaign_names, strict=False)).get(missing.wanted)
    known = f"{name!r} ({missing.wanted})" if name and name != missing.wanted else repr(missing.wanted)
    return f"{known} not found in Instantly (deleted?){missing.close}"


def _refuse_a_gone_connected_file(job: TablePush) -> None:
    """A connected table whose file is gone, refused before any step runs: it is the connection's file, and
    connect-table re-points it (a scheduled run has no `source` to fix).

    Raises:
        OpsError: the connected file does not exist (one line, naming the table and the file).
    """
    if not job.campaign_names or not job.source or source_kind(job.source) == "postgres":
        return
    try:
        absolute_source(job.source)
    except OpsError as exc:
        raise OpsError(
            f"The source of the connected table {job.table} is gone: {exc.message}",
            hint=f"if it moved, connect the table to its new path: `ops-instantly connect-table --table "
            f"{job.table} --source NEW_PATH --campaign ...` (every connection of the table follows)",
        ) from None


def _log_outcomes_query(store: Any, run_id: str) -> None:
    """Where the run's per-row outcomes are: the warehouse (a worker's may not be where the user looks) and
    the query."""
    where = (
        store.display if store.lake else str(Path(store.display).absolute())
    )  # the worker's folder, spelt out
    get_run_logger().info(
        "Per-row outcomes, in %s: SELECT * FROM ops.push_results WHERE run_id = '%s'", where, run_id
    )


def _missing_line(
    table: str, job: TablePush, missing: Sequence[MissingCampaign], pushed_to: Sequence[str] = ()
) -> str:
    """One line for the campaigns of a table Instantly does not know (the run's error)."""
    names = ", ".join(_missing_name(job, m) for m in missing)
    word = "Campaign" if len(missing) == 1 else "Campaigns"
    if not pushed_to:
        return f"{word} {names}: ops.{table} was not pushed"
    return f"{word} {names}: ops.{table} was pushed only to {', '.join(map(repr, pushed_to))}"


def _missing_hint(job: TablePush, missing: Sequence[MissingCampaign]) -> str:
    if job.campaign_names:  # a connected table
        which = missing[0].wanted if len(missing) == 1 else "ID"
        return (
            f"remove it with `ops-instantly connections --table {job.table} --remove --campaign {which}`, "
            "or connect the table to a campaign that exists"
        )
    return "check the id or exact name with `ops-instantly campaigns list`"


def _summary(report: TablePushReport, run_id: str) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "dry_run": False,
        "table": report.table.name,
        "rows": report.table.row_count,
        "skip_hint": skip_hint() if any(r.counts.get("skipped") for r in report.campaigns) else None,
        "duplicate_hint": duplicate_hint() if any(r.already_in_campaign for r in report.campaigns) else None,
        "campaigns": [
            {
                "id": r.campaign_id,
                "name": r.campaign_name,
                "counts": dict(r.counts),
                "requests": r.requests,
                "requests_by_kind": r.requests_by_kind(),
                "reconciled": r.reconciled,
                "created_earlier": r.created_earlier,
                "unresolved": r.unresolved,
                "guard_lifted": r.guard_lifted,
                "seconds": round(r.seconds, 2),
            }
            for r in report.campaigns
        ],
    }
