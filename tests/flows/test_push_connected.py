"""Scheduled pushes need no arguments: connected tables (ops-instantly connect-table) are pushed to their campaigns."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from flows.push_leads import push_leads
from ops_core.errors import OpsError
from tests.cli._cli_helpers import assert_one_line_error, run_cli
from tests.tasks.push_helpers import campaign_leads, make_campaign, write_workbook
from warehouse.connections import list_connections
from warehouse.db import Warehouse

pytestmark = pytest.mark.slow


def test_a_push_without_arguments_pushes_every_connected_table(
    env: Any, sandbox: Any, warehouse_path: Path, tmp_path: Path, capsys
) -> None:
    first, second = make_campaign(sandbox, "First"), make_campaign(sandbox, "Second")
    csv = tmp_path / "prospects.csv"
    csv.write_text("id,email,first name,team\n1,a@example.com,Ann,red\n2,b@example.com,Bob,blue\n")
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text("exclude: [team]\n")

    with pytest.raises(OpsError, match="Nothing to push") as nothing:
        push_leads()
    assert f"in the warehouse {warehouse_path}" in str(nothing.value)  # a worker's may not be the shell's
    result = run_cli(
        capsys, "connect-table", "--table", "prospects", "--source", str(csv), "--key", "id",
        "--mapping", str(mapping), "--campaign", "First", "--campaign", second,
    )  # fmt: skip
    assert result.code == 0, result.err

    summary = push_leads()  # default skip_if: campaigns of one table do not block each other

    assert [t["table"] for t in summary["tables"]] == ["prospects"]
    assert _latest_progress() == ("Rows of ops.prospects pushed to 2 campaigns.", 100.0)
    for campaign in (first, second):
        leads = campaign_leads(sandbox, campaign)
        assert sorted(lead["email"] for lead in leads) == ["a@example.com", "b@example.com"]
        assert all("team" not in (lead.get("payload") or {}) for lead in leads)


def test_a_connected_table_that_fails_does_not_keep_the_others_from_their_push(
    env: Any, sandbox: Any, warehouse_path: Path, tmp_path: Path, capsys
) -> None:
    kept, deleted = make_campaign(sandbox, "Kept"), make_campaign(sandbox, "Deleted later")
    for name, campaign in (("alpha", deleted), ("beta", kept)):
        csv = tmp_path / f"{name}.csv"
        csv.write_text(f"email,first name\n{name}1@example.com,Ann\n{name}2@example.com,Bob\n")
        result = run_cli(
            capsys, "connect-table", "--table", name, "--source", str(csv), "--campaign", campaign
        )
        assert result.code == 0, result.err
    httpx.delete(
        f"{sandbox.base_url}/campaigns/{deleted}", headers={"Authorization": f"Bearer {sandbox.api_key}"}
    ).raise_for_status()

    with pytest.raises(OpsError, match=f"1 of 2 connected tables not pushed: alpha: .*{deleted}") as caught:
        push_leads()

    assert "\n" not in str(caught.value) and caught.value.hint == (
        "the other tables were pushed; fix these and run the push again"
    )
    # beta comes after alpha, and was pushed all the same.
    assert sorted(lead["email"] for lead in campaign_leads(sandbox, kept)) == [
        "beta1@example.com",
        "beta2@example.com",
    ]
    with Warehouse(warehouse_path).connect(read_only=True) as con:
        status, message = con.execute(
            "SELECT status, message FROM ops.sync_runs WHERE flow = 'push-leads' ORDER BY started_at DESC LIMIT 1"
        ).fetchone()
        outcomes = con.execute(
            "SELECT outcome, count(*) FROM ops.push_results WHERE campaign_id = ? GROUP BY ALL", [kept]
        ).fetchall()
    assert status == "failed" and message.startswith("1 of 2 connected tables not pushed: alpha")
    assert outcomes == [("created", 2)]
    # The run's summary in the UI names the table that failed, above the one that was pushed.
    summary = _latest_artifact("push-summary").data
    assert summary.startswith("# Not pushed\n\n- alpha: ") and deleted in summary.splitlines()[2]
    assert "# Push of `ops.beta` (2 rows)" in summary


def test_a_campaign_deleted_in_instantly_does_not_keep_the_tables_other_campaigns_from_their_push(
    env: Any, sandbox: Any, warehouse_path: Path, tmp_path: Path, capsys
) -> None:
    deleted, kept = make_campaign(sandbox, "Deleted later"), make_campaign(sandbox, "Kept")
    csv = tmp_path / "alpha.csv"
    csv.write_text("email,first name\nalpha1@example.com,Ann\nalpha2@example.com,Bob\n")
    result = run_cli(
        capsys, "connect-table", "--table", "alpha", "--source", str(csv), "--campaign", deleted,
        "--campaign", kept,
    )  # fmt: skip
    assert result.code == 0, result.err
    httpx.delete(
        f"{sandbox.base_url}/campaigns/{deleted}", headers={"Authorization": f"Bearer {sandbox.api_key}"}
    ).raise_for_status()

    result = run_cli(capsys, "push")  # every connected table, as the schedule runs it

    why = f"Campaign 'Deleted later' ({deleted}) not found in Instantly (deleted?): ops.alpha was pushed only to 'Kept'"
    assert result.code == 1 and "Traceback" not in result.err
    errors = [line for line in result.err.splitlines() if line.startswith("error:")]  # after the progress bar
    assert len(errors) == 1 and why in errors[0] and f"--remove --campaign {deleted}`" in errors[0]
    # What did reach its campaign is shown with the error, as a push that succeeds shows it.
    assert "Push of ops.alpha (2 rows)" in result.out and "Per-row outcomes:" in result.out
    kept_row = next(line for line in result.out.splitlines() if "Kept" in line and "│" in line)
    assert kept_row.split("│")[2].strip() == "2"  # created
    assert sorted(lead["email"] for lead in campaign_leads(sandbox, kept)) == [
        "alpha1@example.com",
        "alpha2@example.com",
    ]
    with Warehouse(warehouse_path).connect(read_only=True) as con:
        run_id, status, message = con.execute(
            "SELECT run_id, status, message FROM ops.sync_runs WHERE flow = 'push-leads' "
            "ORDER BY started_at DESC LIMIT 1"
        ).fetchone()
        outcomes = con.execute(
            "SELECT campaign_id, outcome, count(*) FROM ops.push_results WHERE run_id = ? GROUP BY ALL",
            [run_id],
        ).fetchall()
    assert status == "failed" and message == why
    assert outcomes == [(kept, "created", 2)]

    # The flow's own parameters (a deployment's campaigns): the same, and the flow run is Failed.
    state = push_leads(source=str(csv), campaigns=["Kept", deleted], return_state=True)
    assert state.is_failed()
    with pytest.raises(
        OpsError, match=f"Campaign '{deleted}' not found in Instantly .*pushed only to 'Kept'"
    ):
        state.result()


def test_connect_table_refuses_a_source_url_with_a_password(capsys, warehouse_path, monkeypatch) -> None:
    monkeypatch.setenv("INSTANTLY_API_KEY", "k")
    result = run_cli(
        capsys, "connect-table", "--table", "t", "--campaign", "c",
        "--source", "postgresql://u:hunter2@127.0.0.1/db", "--warehouse", str(warehouse_path),
    )  # fmt: skip
    assert_one_line_error(result, "password")
    assert "hunter2" not in result.err


def _latest_progress() -> tuple[str | None, float]:
    """(description, progress) of the newest `push-progress` artifact."""
    artifact = _latest_artifact("push-progress")
    return artifact.description, float(artifact.data)  # type: ignore[arg-type]


def _latest_artifact(key: str) -> Any:
    """The newest artifact with this key."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
    from prefect.client.schemas.sorting import ArtifactSort

    with get_client(sync_client=True) as client:
        [artifact] = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key])),
            sort=ArtifactSort.CREATED_DESC,
            limit=1,
        )
    return artifact


def test_a_connected_file_that_moved_is_repointed_with_connect_table(
    env: Any, sandbox: Any, warehouse_path: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    first, second = make_campaign(sandbox, "First"), make_campaign(sandbox, "Second")
    (tmp_path / "exports").mkdir()
    (tmp_path / "exports" / "leads.csv").write_text(
        "email,first name\na@example.com,Ann\nb@example.com,Bob\n"
    )
    monkeypatch.chdir(tmp_path)  # a path relative to where the command is typed
    for campaign in ("First", "Second"):
        result = run_cli(
            capsys,
            "connect-table",
            "--table",
            "leads",
            "--source",
            "exports/leads.csv",
            "--campaign",
            campaign,
        )
        assert result.code == 0, result.err
    with Warehouse(warehouse_path).connect(read_only=True) as con:
        assert {c.source for c in list_connections(con)} == {str(tmp_path / "exports" / "leads.csv")}
    push_leads()

    (tmp_path / "moved").mkdir()
    (tmp_path / "exports" / "leads.csv").rename(tmp_path / "moved" / "leads.csv")
    with pytest.raises(OpsError) as gone:
        push_leads()
    assert str(gone.value).startswith(
        f"The source of the connected table leads is gone: No such file: {tmp_path / 'exports' / 'leads.csv'}. "
        "(if it moved, connect the table to its new path: `ops-instantly connect-table --table leads"
    )
    missing = run_cli(
        capsys, "connect-table", "--table", "leads", "--source", "nowhere.csv", "--campaign", "First"
    )
    assert_one_line_error(missing, f"No such file: {tmp_path / 'nowhere.csv'}.")

    moved = str(tmp_path / "moved" / "leads.csv")
    result = run_cli(
        capsys, "connect-table", "--table", "leads", "--source", "moved/leads.csv", "--campaign", "First"
    )
    assert result.code == 0, result.err
    assert (
        f"leads is now read from {moved}, not {tmp_path / 'exports' / 'leads.csv'}: its next push reads it there;"
        " also for its connection to 'Second'"
    ) in " ".join(result.out.split())
    summary = push_leads()  # the same rows from the new place: nothing to send again
    assert [t["table"] for t in summary["tables"]] == ["leads"]
    for campaign in (first, second):
        assert sorted(lead["email"] for lead in campaign_leads(sandbox, campaign)) == [
            "a@example.com",
            "b@example.com",
        ]
    with Warehouse(warehouse_path).connect(read_only=True) as con:
        assert {c.source for c in list_connections(con)} == {moved}
        assert con.execute("SELECT source FROM ops.source_tables WHERE table_name = 'leads'").fetchall() == [
            (moved,)
        ]


def test_connecting_the_file_a_push_read_by_a_relative_path_does_not_say_it_moved(
    env: Any, sandbox: Any, warehouse_path: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    # The README's order: `push --source examples/leads.csv`, then `connect-table` with the same path.
    make_campaign(sandbox, "First")
    (tmp_path / "exports").mkdir()
    (tmp_path / "exports" / "leads.csv").write_text("email,first name\na@example.com,Ann\n")
    monkeypatch.chdir(tmp_path)
    pushed = run_cli(capsys, "push", "--source", "exports/leads.csv", "--campaign", "First")
    assert pushed.code == 0, pushed.err
    with Warehouse(warehouse_path).connect(read_only=True) as con:
        recorded = con.execute("SELECT source FROM ops.source_tables WHERE table_name = 'leads'").fetchone()
    # By its absolute path: `exports/leads.csv` typed in another folder names another file.
    assert recorded == (str(tmp_path / "exports" / "leads.csv"),)

    result = run_cli(
        capsys, "connect-table", "--table", "leads", "--source", "exports/leads.csv", "--campaign", "First"
    )
    assert result.code == 0, result.err
    assert "connected leads -> 'First'" in result.out
    assert "is now read from" not in result.out
    absolute = str(tmp_path / "exports" / "leads.csv")
    with Warehouse(warehouse_path).connect(read_only=True) as con:
        assert con.execute("SELECT source FROM ops.source_tables WHERE table_name = 'leads'").fetchall() == [
            (absolute,)  # what a worker in another folder reads
        ]
        assert [c.source for c in list_connections(con)] == [absolute]


def test_a_connected_sheet_and_a_connected_query_are_what_the_scheduled_push_reads(
    env: Any, sandbox: Any, postgres_url: str, postgres_scratch: Any, tmp_path: Path, capsys
) -> None:
    fair, vips = make_campaign(sandbox, "Fair"), make_campaign(sandbox, "VIPs")
    book = write_workbook(
        tmp_path / "fair.xlsx",
        {
            "Summary": [["Trade fair", "2026"]],
            "Leads": [["email", "first name"], ["ann@fair.example", "Ann"], ["bob@fair.example", "Bob"]],
        },
    )
    table = postgres_scratch.table(
        "conn_query",
        "email text, first_name text, vip boolean",
        [("vi@crm.example", "Vi", True), ("no@crm.example", "No", False)],
    )
    assert run_cli(capsys, "connect-table", "--table", "fair", "--source", str(book), "--sheet", "Leads",
                   "--campaign", fair).code == 0  # fmt: skip
    result = run_cli(capsys, "connect-table", "--table", "vips", "--source", postgres_url,
                     "--query", f"SELECT * FROM {table} WHERE vip", "--campaign", vips)  # fmt: skip
    assert result.code == 0, result.err
    listed = run_cli(capsys, "connections")
    assert "fair.xlsx (sheet 'Leads')" in listed.out and "(a query)" in listed.out

    summary = push_leads()  # what a scheduled run does: no arguments

    assert sorted(t["table"] for t in summary["tables"]) == ["fair", "vips"]
    assert sorted(lead["email"] for lead in campaign_leads(sandbox, fair)) == [
        "ann@fair.example",
        "bob@fair.example",
    ]
    assert [lead["email"] for lead in campaign_leads(sandbox, vips)] == ["vi@crm.example"]


def test_sheet_and_query_are_refused_for_a_source_that_has_none(
    capsys, warehouse_path: Path, tmp_path: Path
) -> None:
    csv = tmp_path / "leads.csv"
    csv.write_text("email\na@example.com\n")
    for option, value in (("--sheet", "Leads"), ("--query", "SELECT 1")):
        result = run_cli(
            capsys, "connect-table", "--table", "leads", "--source", str(csv), option, value,
            "--campaign", "c", "--warehouse", str(warehouse_path),
        )  # fmt: skip
        assert_one_line_error(result, option)
    assert not warehouse_path.exists()  # nothing recorded


def test_when_every_connected_table_fails_the_error_says_no_other_table_was_pushed(
    env: Any, sandbox: Any, warehouse_path: Path, tmp_path: Path, capsys
) -> None:
    deleted = make_campaign(sandbox, "Deleted later")
    for name in ("alpha", "beta"):
        csv = tmp_path / f"{name}.csv"
        csv.write_text(f"email,first name\n{name}1@example.com,Ann\n")
        result = run_cli(
            capsys, "connect-table", "--table", name, "--source", str(csv), "--campaign", deleted
        )
        assert result.code == 0, result.err
    httpx.delete(
        f"{sandbox.base_url}/campaigns/{deleted}", headers={"Authorization": f"Bearer {sandbox.api_key}"}
    ).raise_for_status()

    with pytest.raises(OpsError, match="2 of 2 connected tables not pushed: alpha") as caught:
        push_leads()

    assert caught.value.hint == "fix these and run the push again"
