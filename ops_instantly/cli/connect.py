"""`ops-instantly connect-table` and `connections`: which source table feeds which campaigns.

Scheduled push and sync runs read these connections (`warehouse.connections.list_connections`), so they run
without arguments. A campaign is connected only after it is checked against the API (`campaigns validate`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from ops_instantly.cli._app import app
from ops_instantly.cli._json import JSON_OPTION, print_json
from ops_instantly.cli._support import (
    CREDENTIALS_OPTION,
    WAREHOUSE_HELP,
    api_errors,
    open_client,
    open_warehouse,
    print_table,
)
from ops_instantly.errors import OpsError


def _mapping(path: Path | None) -> dict[str, Any] | None:
    """The mapping file's content, shape-checked by the push half's parser (fields / rename / exclude)."""
    if path is None:
        return None
    import yaml

    from tasks.mapping import parse_overrides

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
    except OSError as exc:
        raise OpsError(f"Cannot read the mapping file {path}: {exc.strerror}.") from None
    except yaml.YAMLError as exc:
        raise OpsError(f"{path} is not valid YAML or JSON: {' '.join(str(exc).split())[:200]}") from None
    parse_overrides(data, origin=str(path))
    return data or {}


@app.command("connect-table")
def connect_table(
    table: str = typer.Option(..., help="The Ops table (as for push --table), e.g. ops.prospects."),
    campaign: list[str] = typer.Option(..., help="Campaign id or name; repeat for several campaigns."),
    mapping: Path | None = typer.Option(
        None, help="Mapping file (YAML/JSON: fields, rename, exclude, include)."
    ),
    source: str | None = typer.Option(
        None, help="Where the table is read from (as for push --source; no password: use --source-block)."
    ),
    source_block: str | None = typer.Option(
        None, "--source-block", help="Postgres Source block holding the connection URL.", metavar="BLOCK"
    ),
    key: str | None = typer.Option(None, help="The table's key column (as for push --key)."),
    sheet: str | None = typer.Option(
        None, help="The workbook's sheet to read (as for push --sheet; default: the first)."
    ),
    query: str | None = typer.Option(
        None, help="A Postgres query to read instead of the table; --table names the result.", metavar="SQL"
    ),
    warehouse: str | None = typer.Option(None, help=WAREHOUSE_HELP),
    credentials: str | None = CREDENTIALS_OPTION,
) -> None:
    """Connect a source table to one or more campaigns, after checking each campaign exists.

    Example: ops-instantly connect-table --table ops.prospects --campaign "Q3 founders" --key id
    """
    from ops_core.sources import absolute_source, source_kind
    from ops_core.text import quoted
    from ops_core.urls import redact_url
    from tasks.campaign_summary import read_campaign_check
    from warehouse.connections import BLOCK_PREFIX, Connection, read_as, repoint_table, save_connection

    table = table.strip()
    if not table:
        raise OpsError("--table is empty.")
    if source and source_block:
        raise OpsError("Pass --source or --source-block, not both.")
    if source and redact_url(source) != source:
        raise OpsError(
            "The --source URL holds a password, which the warehouse must not store.",
            hint="save it in a Postgres Source block and pass --source-block NAME",
        )
    kind = "postgres" if source_block else source_kind(source) if source else None
    if query is not None and (not query.strip() or kind != "postgres"):
        raise OpsError(
            "--query is for a Postgres source (--source postgresql://... or --source-block), and not empty.",
            hint="leave --query out, or give the Postgres source it reads",
        )
    if sheet is not None and (not sheet.strip() or kind != "excel"):
        raise OpsError(
            "--sheet is for an Excel source (--source book.xlsx, .xls, .ods), and not empty.",
            hint="leave --sheet out, or give the workbook it reads",
        )
    if source_block:
        source = f"{BLOCK_PREFIX}{source_block}"
    elif source:
        source = absolute_source(
            source
        )  # a worker reads it from its own folder; a missing file is refused now
    mapping_data = _mapping(mapping)
    if source:
        _check_source_header(
            Connection(
                table_name=table,
                campaign_id="",
                campaign_name="",
                source=source,
                key_column=key,
                mapping=mapping_data,
                sheet=sheet,
                query=query,
            )
        )
    checks = []
    with api_errors(), open_client(credentials) as client:
        for wanted in dict.fromkeys(campaign):  # each campaign once, in the order given
            checks.append(read_campaign_check(client, wanted))
    with open_warehouse(warehouse).connect() as con:
        before, changed = (
            repoint_table(con, table, source, sheet=sheet, query=query) if source else (None, [])
        )
        for check in checks:
            save_connection(
                con,
                Connection(
                    table_name=table,
                    campaign_id=check.id,
                    campaign_name=check.name,
                    source=source,
                    key_column=key,
                    mapping=mapping_data,
                    sheet=sheet,
                    query=query,
                ),
            )
    for check in checks:
        typer.echo(
            f"connected {table} -> {check.name!r} ({check.id}, {check.status_label}; {check.counts_text()})"
        )
    connected = {check.id for check in checks}
    also = [c.campaign_name or c.campaign_id for c in changed if c.campaign_id not in connected]
    if before is not None or also:
        was = changed[0] if changed else None
        shown = read_as(
            redact_url(before or (was.source if was else "") or ""), *((was.sheet, was.query) if was else ())
        )
        note = f"; also for its connection to {', '.join(map(quoted, also))}" if also else ""
        now = read_as(redact_url(source or ""), sheet, query)
        typer.echo(f"{table} is now read from {now}, not {shown}: its next push reads it there{note}")


def _check_source_header(connection: Any) -> None:
    """What the table's push would refuse in the source's header fails now, read as the push reads it; a
    Postgres server this machine cannot reach is only noted (a worker on the database's network may reach
    it). Only a Postgres Source block's source needs Prefect (its API holds the URL)."""
    from tasks.mapping import MappingOverrides, parse_overrides
    from tasks.postgres_source import SourceUnreachableError
    from tasks.source_header import SourceSpec, check_header
    from warehouse.connections import BLOCK_PREFIX

    try:
        if connection.source.startswith(BLOCK_PREFIX):
            from flows.push_leads import check_connection

            check_connection(connection)
            return
        overrides = (
            parse_overrides(connection.mapping, origin="the mapping")
            if connection.mapping is not None
            else MappingOverrides()
        )
        spec = SourceSpec(
            connection.source, table=connection.table_name, query=connection.query, sheet=connection.sheet
        )
        check_header(spec, overrides, connection.key_column)
    except SourceUnreachableError as exc:
        typer.echo(
            f"note: the source's columns are not checked from this machine: {exc.message.rstrip('.')} (the push "
            "reads it where it runs)"
        )


@app.command("connections")
def connections(
    table: str | None = typer.Option(None, help="Only this table's connections (required with --remove)."),
    remove: bool = typer.Option(False, "--remove", help="Remove the table's connections instead of listing."),
    campaign: list[str] | None = typer.Option(
        None, help="With --remove: only the connection to this campaign id or name (repeatable)."
    ),
    warehouse: str | None = typer.Option(None, help=WAREHOUSE_HELP),
    json_: bool = JSON_OPTION,
) -> None:
    """List the table-to-campaign connections, or remove them with --remove.

    Example: ops-instantly connections --table ops.prospects --remove --campaign "Q3 founders"
    """
    from warehouse.connections import list_connections, remove_connections

    wh = open_warehouse(warehouse)
    if remove:
        if not table:
            raise OpsError(
                "--remove needs --table.", hint="e.g. ops-instantly connections --table ops.x --remove"
            )
        with wh.connect() as con:
            current = list_connections(con, table)
            ids = None
            if campaign:
                ids = [
                    c.campaign_id for c in current if c.campaign_id in campaign or c.campaign_name in campaign
                ]
                if not ids:
                    raise OpsError(f"{table} is not connected to {', '.join(map(repr, campaign))}.")
            elif not current:
                raise OpsError(f"{table} has no connections.")
            removed = remove_connections(con, table, ids)
        if json_:
            print_json({"table": table, "removed": removed})
        else:
            typer.echo(f"removed {removed} connection(s) of {table}")
        return
    rows = []
    exists = wh.exists()
    if exists:
        with wh.connect(read_only=True) as con:
            rows = list_connections(con, table)
    if json_:
        print_json(rows)
        return
    if not exists:
        typer.echo("No connections yet (no warehouse yet).")
        return
    print_table(
        f"{len(rows)} connection(s)",
        ["table", "campaign", "campaign id", "source", "key", "mapping", "since"],
        [
            (
                c.table_name,
                c.campaign_name,
                c.campaign_id,
                c.read_as,
                c.key_column,
                "file" if c.mapping is not None else "auto",
                f"{c.created_at:%Y-%m-%d %H:%M}",
            )
            for c in rows
        ],
    )
