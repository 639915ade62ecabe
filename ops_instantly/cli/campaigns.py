"""`ops-instantly campaigns`: list, show, create, update, activate, pause, duplicate, delete and validate.

Commands that change a campaign run the flows in flows/manage_campaigns.py (so they are recorded in Prefect);
commands that only read call the client directly.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import typer

from ops_core.text import quoted
from ops_instantly.cli._app import app
from ops_instantly.cli._ask import confirm
from ops_instantly.cli._json import JSON_OPTION, as_returned, print_json
from ops_instantly.cli._support import (
    CREDENTIALS_OPTION,
    api_errors,
    load_credentials,
    number,
    open_client,
    open_warehouse,
    print_table,
    run_flow,
)
from ops_instantly.errors import OpsError

if TYPE_CHECKING:
    from tasks.campaign_spec import CampaignInput

campaigns_app = typer.Typer(
    help="Create and run Instantly campaigns.\n\n"
    "Example: ops-instantly campaigns create --file examples/campaign.yaml",
    no_args_is_help=True,
)
app.add_typer(campaigns_app, name="campaigns")

CAMPAIGN_ARG = typer.Argument(..., help="Campaign id or exact name.", metavar="ID_OR_NAME")


def _resolve(campaign: str, credentials: str | None) -> Any:
    """The campaign, read before a flow runs: an unknown campaign or a bad key fails here, in one line."""
    from tasks.campaign_summary import find_campaign, summarize

    with api_errors(), open_client(credentials) as client:
        return summarize(find_campaign(client, campaign))


# -- reading -------------------------------------------------------------------------------------------------


@campaigns_app.command("list")
def list_(
    search: str | None = typer.Option(None, help="Only campaigns whose name contains this."),
    credentials: str | None = CREDENTIALS_OPTION,
    json_: bool = JSON_OPTION,
) -> None:
    """List the workspace's campaigns: id, name, status and daily limit (--json: the API's campaigns).

    Example: ops-instantly campaigns list --search "Q3" --json
    """
    from tasks.campaign_summary import summarize

    with api_errors(), open_client(credentials) as client:
        found = list(client.campaigns.list(search=search))
    if json_:
        print_json([as_returned(c) for c in found])
        return
    rows = [summarize(c) for c in found]
    print_table(
        f"{len(rows)} campaign(s)",
        ["id", "name", "status", "daily limit"],
        [(c.id, c.name, c.status_label, number(c.daily_limit)) for c in rows],
    )


@campaigns_app.command("show")
def show(
    campaign: str = CAMPAIGN_ARG, credentials: str | None = CREDENTIALS_OPTION, json_: bool = JSON_OPTION
) -> None:
    """Show a campaign's settings: status, schedule, steps, limits and tracking.

    --json prints the campaign as `GET /campaigns/{id}` returns it, a body `campaigns create --file -` takes.

    Example: ops-instantly campaigns show "Q3 founders" --json > q3.json
    """
    from tasks.campaign_summary import find_campaign, summarize

    with api_errors(), open_client(credentials) as client:
        found = find_campaign(client, campaign)
    if json_:
        print_json(as_returned(found))
        return
    summary = summarize(found)
    schedule = ((found.campaign_schedule or {}).get("schedules") or [{}])[0]
    days = schedule.get("days") or {}
    names = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
    on = ",".join(names[int(k)] for k in sorted(days) if days[k] and k.isdigit() and int(k) < 7)
    timing = schedule.get("timing") or {}
    lines = [
        ("id", summary.id),
        ("name", summary.name),
        ("status", summary.status_label),
        ("daily limit", number(found.daily_limit)),
        ("timezone", schedule.get("timezone")),
        ("days", on or None),
        ("hours", f"{timing.get('from')}-{timing.get('to')}" if timing else None),
        ("steps", summary.steps),
        ("open tracking", found.open_tracking),
        ("link tracking", found.link_tracking),
        ("stop on reply", found.stop_on_reply),
        ("senders", ", ".join(found.email_list or []) or None),
    ]
    for key, value in lines:
        typer.echo(f"{key + ':':15}{'-' if value is None else value}")


@campaigns_app.command("validate")
def validate(
    campaign: str = CAMPAIGN_ARG, credentials: str | None = CREDENTIALS_OPTION, json_: bool = JSON_OPTION
) -> None:
    """Check that a campaign exists; print its name, status and counts (leads, contacted, replies).

    Example: ops-instantly campaigns validate "Q3 founders"
    """
    from tasks.campaign_summary import read_campaign_check

    with api_errors(), open_client(credentials) as client:
        check = read_campaign_check(client, campaign)
    if json_:
        print_json(check)
        return
    typer.echo(f"ok: {quoted(check.name)} ({check.id}) is {check.status_label}; {check.counts_text()}")


@campaigns_app.command("check")
def check(
    campaign: str = CAMPAIGN_ARG, credentials: str | None = CREDENTIALS_OPTION, json_: bool = JSON_OPTION
) -> None:
    """Pre-launch check: variables the steps use and the leads lacking them, broken tokens, the schedule in
    plain words, sending accounts and their daily limits. Exits 1 when something blocks the launch.

    Example: ops-instantly campaigns check "Q3 founders"
    """
    from tasks.prelaunch import read_launch_check, render_check

    with api_errors(), open_client(credentials) as client:
        found = read_launch_check(client, campaign)
    if json_:
        print_json(found)  # problems[].level says which block the launch
    else:
        for line in render_check(found):
            typer.echo(line)
    if found.blocking:
        typer.echo(
            f"error: {len(found.blocking)} problem(s) block the launch of {quoted(found.name)}", err=True
        )
        raise typer.Exit(1)


# -- changing ------------------------------------------------------------------------------------------------


def _spec_data(
    file: Path | None,
    *,
    update: bool,
    name: str | None,
    timezone: str | None,
    days: str | None,
    start: str | None,
    end: str | None,
    daily_limit: int | None,
    open_tracking: bool | None,
    link_tracking: bool | None,
    stop_on_reply: bool | None,
    subject: str | None,
    body: str | None,
    accounts: list[str] | None = None,
) -> CampaignInput:
    """The file's campaign (either shape, as the friendly one) with the flags laid over it (flags win)."""
    from tasks.campaign_spec import CampaignInput, normalise_campaign, read_campaign_file

    found = CampaignInput(data={})
    if file:
        found = normalise_campaign(read_campaign_file(file), _source(file), update=update)
    data = found.data
    flags = {
        "name": name,
        "daily_limit": daily_limit,
        "open_tracking": open_tracking,
        "link_tracking": link_tracking,
        "stop_on_reply": stop_on_reply,
        "email_list": list(accounts) if accounts else None,
    }
    data.update({k: v for k, v in flags.items() if v is not None})
    schedule = {"timezone": timezone, "days": days, "from": start, "to": end}
    if any(v is not None for v in schedule.values()):
        current = data.get("schedule")
        data["schedule"] = {**(current if isinstance(current, dict) else {}), **_set(schedule)}
    if subject is not None or body is not None:
        if not (subject and body):
            raise OpsError("--subject and --body go together (a one-step sequence).")
        data["sequence"] = [{"subject": subject, "body": body}]
    return found


def _refuse_unknown_accounts(emails: list[str] | None, credentials: str | None) -> None:
    """Raise OpsError naming sending accounts the workspace lacks, before any write.

    SPEC GET /accounts lists the workspace's sending accounts; emails compare case-insensitively.
    """
    if not emails:
        return
    with api_errors(), open_client(credentials) as client:
        known = {a.email.strip().lower() for a in client.accounts.list() if a.email}
    unknown = [e for e in emails if e.strip().lower() not in known]
    if unknown:
        raise OpsError(
            f"Sending account(s) not in this workspace: {', '.join(unknown)}.",
            hint="list the workspace's accounts with `ops-instantly accounts`",
        )


def _done(campaign: Any, line: str, json_: bool) -> None:
    """What a campaign write prints: its line, or with --json the campaign as the commands see it
    (`{"id", "name", "status", "status_label", "daily_limit", "timezone", "steps"}`, docs/cli-json.md)."""
    if json_:
        print_json(campaign)
    else:
        typer.echo(line)


def _already(found: Any, action: Literal["activate", "pause"], json_: bool) -> bool:
    """Print that the campaign (read by `_resolve`) is already where `action` would put it, and return True;
    False when the action has something to do. The status was just read: nothing to send, no flow to run."""
    from tasks.campaign_summary import already

    if not already(found.status, action):
        return False
    _done(found, f"{quoted(found.name)} ({found.id}) is already {found.status_label}", json_)
    return True


def _note(found: CampaignInput) -> None:
    """Name the file's fields the API would not use (read-only ones), on stderr, once the input is valid."""
    note = found.note()
    if note:
        typer.echo(note, err=True)


def _source(file: Path | None) -> str:
    """How errors name the campaign's origin."""
    if file is None:
        return "campaign"
    return "stdin" if str(file) == "-" else str(file)


def _set(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


FILE_OPTION = typer.Option(
    None,
    "--file",
    "-f",
    help="Campaign YAML or JSON, `-` for stdin: examples/campaign.yaml's shape or the API's campaign body "
    "(as `campaigns show --json` prints it).",
    metavar="FILE",
)
NAME_OPTION = typer.Option(None, help="Campaign name.")
TIMEZONE_OPTION = typer.Option(None, help="One of Instantly's timezones, e.g. America/Detroit.")
DAYS_OPTION = typer.Option(None, help='Sending days: "mon-fri", "mon,wed,fri" or "1-5" ("0" = Sunday).')
FROM_OPTION = typer.Option(None, "--from", help="Sending window start, HH:MM.")
TO_OPTION = typer.Option(None, "--to", help="Sending window end, HH:MM.")
LIMIT_OPTION = typer.Option(None, min=1, help="Emails the campaign may send per day.")
OPEN_OPTION = typer.Option(None, "--open-tracking/--no-open-tracking", help="Track opens.")
LINK_OPTION = typer.Option(None, "--link-tracking/--no-link-tracking", help="Track link clicks.")
STOP_OPTION = typer.Option(None, "--stop-on-reply/--no-stop-on-reply", help="Stop a lead's emails on reply.")
SUBJECT_OPTION = typer.Option(None, help="Subject of a one-step sequence (with --body).")
BODY_OPTION = typer.Option(None, help="Body of a one-step sequence (with --subject).")
ACCOUNT_OPTION = typer.Option(
    None,
    "--account",
    help="Sending account email (repeatable; replaces the campaign's email_list). See `ops-instantly accounts`.",
    metavar="EMAIL",
)


@campaigns_app.command("create")
def create(
    file: Path | None = FILE_OPTION,
    name: str | None = NAME_OPTION,
    timezone: str | None = TIMEZONE_OPTION,
    days: str | None = DAYS_OPTION,
    start: str | None = FROM_OPTION,
    end: str | None = TO_OPTION,
    daily_limit: int | None = LIMIT_OPTION,
    open_tracking: bool | None = OPEN_OPTION,
    link_tracking: bool | None = LINK_OPTION,
    stop_on_reply: bool | None = STOP_OPTION,
    subject: str | None = SUBJECT_OPTION,
    body: str | None = BODY_OPTION,
    accounts: list[str] | None = ACCOUNT_OPTION,
    credentials: str | None = CREDENTIALS_OPTION,
    json_: bool = JSON_OPTION,
) -> None:
    """Create a campaign (a Draft: nothing is sent until `campaigns activate`). Flags override the file.

    Example: ops-instantly campaigns create --file examples/campaign.yaml
    """
    from flows.manage_campaigns import create_campaign
    from tasks.campaign_spec import CampaignSpec, create_body, parse_spec

    found = _spec_data(
        file, update=False, name=name, timezone=timezone, days=days, start=start, end=end,
        daily_limit=daily_limit, open_tracking=open_tracking, link_tracking=link_tracking,
        stop_on_reply=stop_on_reply, subject=subject, body=body, accounts=accounts,
    )  # fmt: skip
    spec = parse_spec(found.data, CampaignSpec, _source(file), api_shape=found.api_shape)
    create_body(spec)  # fail fast (timezone, days, times) before any API call
    _refuse_unknown_accounts(spec.email_list, credentials)
    _note(found)
    created = run_flow(create_campaign, spec, credentials=load_credentials(credentials))
    _done(created, f"created {quoted(created.name)} ({created.id}), status {created.status_label}", json_)


@campaigns_app.command("update")
def update(
    campaign: str = CAMPAIGN_ARG,
    file: Path | None = FILE_OPTION,
    name: str | None = NAME_OPTION,
    timezone: str | None = TIMEZONE_OPTION,
    days: str | None = DAYS_OPTION,
    start: str | None = FROM_OPTION,
    end: str | None = TO_OPTION,
    daily_limit: int | None = LIMIT_OPTION,
    open_tracking: bool | None = OPEN_OPTION,
    link_tracking: bool | None = LINK_OPTION,
    stop_on_reply: bool | None = STOP_OPTION,
    subject: str | None = SUBJECT_OPTION,
    body: str | None = BODY_OPTION,
    accounts: list[str] | None = ACCOUNT_OPTION,
    credentials: str | None = CREDENTIALS_OPTION,
    json_: bool = JSON_OPTION,
) -> None:
    """Change a campaign: only the fields in the file or flags change (a schedule change keeps unset parts).

    Example: ops-instantly campaigns update "Q3 founders" --daily-limit 80 --account ava@outreach-sandbox.io
    """
    from flows.manage_campaigns import update_campaign
    from tasks.campaign_spec import CampaignChanges, check_changes, parse_spec

    found = _spec_data(
        file, update=True, name=name, timezone=timezone, days=days, start=start, end=end,
        daily_limit=daily_limit, open_tracking=open_tracking, link_tracking=link_tracking,
        stop_on_reply=stop_on_reply, subject=subject, body=body, accounts=accounts,
    )  # fmt: skip
    if not found.data:
        raise OpsError("Nothing to update.", hint="pass --file or an option such as --daily-limit 80")
    changes = parse_spec(found.data, CampaignChanges, _source(file), api_shape=found.api_shape)
    check_changes(changes)  # fail fast, before any API call and before the flow run
    _refuse_unknown_accounts(changes.email_list, credentials)
    _note(found)
    target = _resolve(campaign, credentials)
    updated = run_flow(update_campaign, target.id, changes, credentials=load_credentials(credentials))
    _done(updated, f"updated {quoted(updated.name)} ({updated.id}), status {updated.status_label}", json_)


@campaigns_app.command("activate")
def activate(
    campaign: str = CAMPAIGN_ARG,
    force: bool = typer.Option(
        False, "--force", help="Activate even if the pre-launch check finds problems."
    ),
    credentials: str | None = CREDENTIALS_OPTION,
    json_: bool = JSON_OPTION,
) -> None:
    """Start (or resume) sending, after the pre-launch check (`campaigns check`) passes.

    An Active campaign is left as it is (exit 0, "is already Active"; no flow run, no request).

    Example: ops-instantly campaigns activate "Q3 founders"
    """
    from flows.manage_campaigns import activate_campaign

    found = _resolve(campaign, credentials)
    if _already(found, "activate", json_):
        return
    result = run_flow(activate_campaign, found.id, credentials=load_credentials(credentials), force=force)
    _done(result, f"{quoted(result.name)} ({result.id}) is {result.status_label}", json_)


@campaigns_app.command("pause")
def pause(
    campaign: str = CAMPAIGN_ARG, credentials: str | None = CREDENTIALS_OPTION, json_: bool = JSON_OPTION
) -> None:
    """Stop sending until activated again.

    A Paused campaign is left as it is (exit 0, "is already Paused"; no flow run, no request).

    Example: ops-instantly campaigns pause "Q3 founders"
    """
    from flows.manage_campaigns import pause_campaign

    found = _resolve(campaign, credentials)
    if _already(found, "pause", json_):
        return
    result = run_flow(pause_campaign, found.id, credentials=load_credentials(credentials))
    _done(result, f"{quoted(result.name)} ({result.id}) is {result.status_label}", json_)


@campaigns_app.command("duplicate")
def duplicate(
    campaign: str = CAMPAIGN_ARG,
    name: str | None = typer.Option(None, help='Name of the copy (default: "<name> (copy)").'),
    credentials: str | None = CREDENTIALS_OPTION,
    json_: bool = JSON_OPTION,
) -> None:
    """Copy a campaign's settings and steps (not its leads) into a new Draft.

    Example: ops-instantly campaigns duplicate "Q3 founders" --name "Q4 founders"
    """
    from flows.manage_campaigns import duplicate_campaign

    found = _resolve(campaign, credentials)
    copy = run_flow(duplicate_campaign, found.id, name or "", credentials=load_credentials(credentials))
    _done(copy, f"created {quoted(copy.name)} ({copy.id}), status {copy.status_label}", json_)


@campaigns_app.command("delete")
def delete(
    campaign: str = CAMPAIGN_ARG,
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
    credentials: str | None = CREDENTIALS_OPTION,
    json_: bool = JSON_OPTION,
) -> None:
    """Delete a campaign (asks first, in a terminal; a script passes --yes; there is no undo).

    Example: ops-instantly campaigns delete "Old test" --yes
    """
    from flows.manage_campaigns import delete_campaign

    found = _resolve(campaign, credentials)
    if not yes:
        confirm(
            f"Delete campaign {quoted(found.name)} ({found.id}, {found.status_label})?",
            refused=f"Campaign {quoted(found.name)} not deleted",
            skip="pass --yes to delete it without asking",
        )
    deleted = run_flow(delete_campaign, found.id, credentials=load_credentials(credentials))
    _done(deleted, f"deleted {quoted(deleted.name)} ({deleted.id})", json_)
    _still_connected(found.id)


def _still_connected(campaign_id: str) -> None:
    """Say on stderr which tables of the warehouse (OPS_WAREHOUSE) are still connected to a deleted campaign:
    their scheduled push fails on it until the connection goes. Quiet when there is no warehouse, or it
    cannot be read now (held by a run): the campaign is deleted either way."""
    from warehouse.connections import read_connections

    try:
        store = open_warehouse(None)
        store.lock_timeout = 2.0  # a run holding the file: no note rather than a wait
        connected = (
            [c for c in read_connections(store) if c.campaign_id == campaign_id] if store.exists() else []
        )
    except Exception:  # noqa: BLE001  (a note, never a failure of the delete that succeeded)
        return
    for c in connected:
        typer.echo(
            f"note: {c.table_name} is still connected to it in {store.display}; its next push fails until you "
            f"run `ops-instantly connections --table {c.table_name} --remove --campaign {campaign_id}`",
            err=True,
        )
