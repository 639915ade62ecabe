"""Real-world lead tables through the push flow: the sandbox over HTTP, a real DuckDB file, real Prefect."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from ops_instantly._paths import REPO_ROOT
from tests.cli._cli_helpers import assert_one_line_error, run_cli
from tests.tasks.push_helpers import (
    campaign_leads,
    make_campaign,
    query,
    request_count,
    set_faults,
    write_workbook,
)

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::UserWarning")]


def test_an_error_exit_after_duckdb_ran_prints_exactly_one_line_on_stderr(
    prefect_harness: None, sandbox: Any, tmp_path: Path
) -> None:
    # duckdb 2.0.0 printed ~44 "nanobind: leaked ... instances" lines at interpreter exit: only a real
    # process shows them, so this runs the CLI as a user would.
    from prefect.settings import PREFECT_API_URL

    make_campaign(sandbox, "Real")
    broken = tmp_path / "broken.parquet"
    broken.write_text("not a parquet file\n")
    env = {
        **os.environ,
        "INSTANTLY_API_KEY": sandbox.api_key,
        "INSTANTLY_BASE_URL": sandbox.base_url,
        "OPS_WAREHOUSE": str(tmp_path / "warehouse.duckdb"),
        "PREFECT_API_URL": str(PREFECT_API_URL.value()),
        "PYTHONPATH": str(REPO_ROOT),
    }
    code = "from ops_instantly.cli import main; main()"
    argv = [sys.executable, "-c", code, "push", "--source", str(broken), "--campaign", "Real"]
    done = subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 1, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr[-3000:]  # not even a blank line (a progress bar never drawn left one)
    assert lines[0].startswith("error: Cannot read") and "broken.parquet" in lines[0]
    assert request_count(sandbox) == 0


# -- helpers ----------------------------------------------------------------------------------------------


def _results(path: Path, email: str | None = None) -> list[tuple[Any, ...]]:
    sql = "SELECT campaign_id, email, outcome, reason FROM ops.push_results"
    if email is None:
        return query(path, sql + " ORDER BY 1, 2")
    return query(path, sql + " WHERE email = ? ORDER BY 1", [email])


def _emails(sandbox: Any, campaign_id: str) -> set[str]:
    return {lead["email"] for lead in campaign_leads(sandbox, campaign_id)}


def _add_directly(
    sandbox: Any, campaign_id: str, leads: list[dict[str, Any]], key: str | None = None
) -> None:
    """Leads added by someone else (another tool, a person), straight through the API."""
    resp = httpx.post(
        f"{sandbox.base_url}/leads/add",
        json={"campaign_id": campaign_id, "leads": leads},
        headers={"Authorization": f"Bearer {key or sandbox.api_key}"},
    )
    assert resp.status_code == 200, resp.text


# -- one table to several campaigns (skip_if_in_campaign) -------------------------------------------------


def test_one_table_lands_in_two_campaigns_with_default_flags_and_other_campaigns_still_guard(
    env: Any, tmp_path: Path, warehouse_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second, other = (
        make_campaign(env, "Alpha"),
        make_campaign(env, "Beta"),
        make_campaign(env, "Other"),
    )
    _add_directly(env, other, [{"email": "taken@example.com", "first_name": "Tak"}])
    people = [f"p{i}@example.com" for i in range(30)]
    csv = tmp_path / "overlay.csv"
    csv.write_text(
        "email,first_name\n" + "".join(f"{e},P{i}\n" for i, e in enumerate([*people, "taken@example.com"]))
    )

    result = run_cli(capsys, "push", "--source", str(csv), "--campaign", "Alpha", "--campaign", "Beta")

    assert result.code == 0, result.err
    assert _emails(env, first) == set(people) and _emails(env, second) == set(people)
    assert _emails(env, other) == {"taken@example.com"}
    taken = _results(warehouse_path, "taken@example.com")
    assert [r[2] for r in taken] == ["skipped", "skipped"]
    assert all(other in r[3] and "not part of this push" in r[3] for r in taken)
    beta = {r[1]: r for r in _results(warehouse_path) if r[0] == second}
    assert beta["p0@example.com"][2] == "created"
    assert "another campaign of this push" in (beta["p0@example.com"][3] or "")

    adds = request_count(env)
    again = run_cli(capsys, "push", "--source", str(csv), "--campaign", "Alpha", "--campaign", "Beta")
    assert again.code == 0, again.err
    assert request_count(env) == adds  # exactly once: nothing is sent again


# -- the ledger's workspace identity ----------------------------------------------------------------------


def test_a_push_after_rotating_the_key_sends_no_write_even_from_an_old_ledger(
    prefect_harness: None, tmp_path: Path, warehouse_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    import duckdb

    from instantly_sandbox import SandboxServer

    with SandboxServer(port=0, seed=11, api_keys=["key-old", "key-new"]) as sandbox:
        monkeypatch.setenv("INSTANTLY_BASE_URL", sandbox.base_url)
        monkeypatch.setenv("OPS_WAREHOUSE", str(warehouse_path))
        monkeypatch.setenv("INSTANTLY_API_KEY", "key-old")
        make_campaign(sandbox, "Rotate")
        csv = tmp_path / "rot.csv"
        csv.write_text("email,first_name\n" + "".join(f"r{i}@example.com,R{i}\n" for i in range(25)))
        assert run_cli(capsys, "push", "--source", str(csv), "--campaign", "Rotate").code == 0
        workspace = httpx.get(
            f"{sandbox.base_url}/workspaces/current", headers={"Authorization": "Bearer key-old"}
        ).json()["id"]
        assert query(warehouse_path, "SELECT DISTINCT workspace FROM ops.push_ledger") == [(workspace,)]
        # A ledger written before the workspace id was the identity: base URL + a hash of the old key.
        legacy = f"{sandbox.base_url}#0123456789ab"
        with duckdb.connect(str(warehouse_path)) as con:
            con.execute("UPDATE ops.push_ledger_writes SET workspace = ?", [legacy])

        monkeypatch.setenv("INSTANTLY_API_KEY", "key-new")
        writes = {
            k: request_count(sandbox, k) for k in ("POST /api/v2/leads/add", "PATCH /api/v2/leads/{id}")
        }
        result = run_cli(capsys, "push", "--source", str(csv), "--campaign", "Rotate")

        assert result.code == 0, result.err
        assert {k: request_count(sandbox, k) for k in writes} == writes  # no write at all
        run = query(warehouse_path, 'SELECT run_id FROM ops.push_results ORDER BY "at" DESC LIMIT 1')[0][0]
        outcomes = query(
            warehouse_path,
            "SELECT outcome, count(*) FROM ops.push_results WHERE run_id = ? GROUP BY 1",
            [run],
        )
        assert outcomes == [("unchanged", 25)]
        assert query(warehouse_path, "SELECT DISTINCT workspace FROM ops.push_ledger") == [(workspace,)]
        assert query(warehouse_path, "SELECT alias, workspace_id FROM ops.workspace_aliases") == [
            (legacy, workspace)
        ]


# -- updates and custom variables set by someone else -----------------------------------------------------


@pytest.mark.parametrize("patch_mode", ["merge", "replace"])
def test_an_update_keeps_the_custom_variables_someone_else_set(
    env: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str], patch_mode: str
) -> None:
    campaign = make_campaign(env, "Keep")
    csv = tmp_path / "keep.csv"
    csv.write_text("email,first_name,city\nana@example.com,Ana,Oslo\nbo@example.com,Bo,Rome\n")
    assert run_cli(capsys, "push", "--source", str(csv), "--campaign", "Keep").code == 0
    ana = next(lead for lead in campaign_leads(env, campaign) if lead["email"] == "ana@example.com")
    resp = httpx.patch(
        f"{env.base_url}/leads/{ana['id']}",
        json={"custom_variables": {"owner_note": "met at the fair", "score": 7}},
        headers={"Authorization": f"Bearer {env.api_key}"},
    )
    assert resp.status_code == 200, resp.text
    # SPEC patchLead does not say whether custom_variables merge or replace: the push must be safe under both.
    set_faults(env, patch_custom_variables=patch_mode)

    csv.write_text("email,first_name,city\nana@example.com,Ana,Bergen\nbo@example.com,Bo,Rome\n")
    assert run_cli(capsys, "push", "--source", str(csv), "--campaign", "Keep").code == 0

    assert request_count(env, "PATCH /api/v2/leads/{id}") == 2  # theirs, then our one update
    payload = next(lead for lead in campaign_leads(env, campaign) if lead["email"] == "ana@example.com")[
        "payload"
    ]
    assert payload["city"] == "Bergen"
    assert payload["owner_note"] == "met at the fair" and payload["score"] == 7


# -- dry runs check the campaigns -------------------------------------------------------------------------


def test_a_dry_run_with_a_misspelt_campaign_fails_in_one_line_and_reads_nothing(
    env: Any, tmp_path: Path, warehouse_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make_campaign(env, "Q3 founders")
    csv = tmp_path / "dry.csv"
    csv.write_text("email,first_name\nana@example.com,Ana\n")
    result = run_cli(capsys, "push", "--source", str(csv), "--campaign", "Q3 fonders", "--dry-run")
    assert_one_line_error(result, "Unknown campaign 'Q3 fonders'")
    assert request_count(env) == 0 and not warehouse_path.exists()

    ok = run_cli(capsys, "push", "--source", str(csv), "--campaign", "Q3 founders", "--dry-run")
    assert ok.code == 0, ok.err
    assert "Campaigns found: Q3 founders" in ok.out and "Dry run: nothing was sent." in ok.out
    assert request_count(env) == 0


def test_a_campaign_name_in_the_wrong_case_is_not_pushed_but_the_error_names_the_right_one(
    env: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from flows.push_leads import push_leads
    from ops_core.errors import OpsError

    make_campaign(env, "Q3 founders outreach")
    csv = tmp_path / "small_r.csv"
    csv.write_text("email,first_name\nana@example.com,Ana\n")
    close = "(did you mean 'Q3 founders outreach'?)"
    for dry_run in ([], ["--dry-run"]):
        args = ["push", "--source", str(csv), "--campaign", "q3 founders outreach", *dry_run]
        assert_one_line_error(run_cli(capsys, *args), "Unknown campaign 'q3 founders outreach'", close)
    # A deployment run (the UI's form, a schedule) names it too.
    with pytest.raises(OpsError) as raised:
        push_leads(source=str(csv), campaigns=["q3 founders outreach"])
    assert str(raised.value).startswith(
        f"Campaign 'q3 founders outreach' not found in Instantly (deleted?) {close}: ops.small_r was not pushed"
    )
    assert request_count(env) == 0


def test_a_csv_column_named_like_an_engagement_column_in_another_case_fails_the_push_in_one_line(
    env: Any, tmp_path: Path, warehouse_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Was: pushed without the column ("left out: engagement column from sync --write-back"), and the view's
    # `instantly_reply_count` read it while the real count became `instantly_reply_count_1`.
    campaign = make_campaign(env, "Clash")
    csv = tmp_path / "clash.csv"
    csv.write_text("Email,First Name,Instantly_Reply_Count\nana@example.com,Ana,12\n")
    expected = (
        f"error: The source {csv} has a column named Instantly_Reply_Count, which the engagement views of "
        "ops.clash would take for their own instantly_reply_count (DuckDB ignores the case of column names)."
        " (rename it in the source; delete it if it is a stale copy of ours)"
    )
    for dry_run in (["--dry-run"], []):
        result = run_cli(capsys, "push", "--source", str(csv), "--campaign", "Clash", *dry_run)
        assert_one_line_error(result, expected)
    assert request_count(env) == 0 and campaign_leads(env, campaign) == []

    csv.write_text("Email,First Name,Replies in CRM\nana@example.com,Ana,12\n")
    assert run_cli(capsys, "push", "--source", str(csv), "--campaign", "Clash").code == 0
    assert campaign_leads(env, campaign)[0]["payload"]["replies_in_crm"] == "12"


# -- Excel ------------------------------------------------------------------------------------------------


def test_an_xlsx_source_is_pushed_from_its_first_sheet_or_the_named_one(
    env: Any, tmp_path: Path, warehouse_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import polars as pl

    campaign = make_campaign(env, "Sheets")
    book = write_workbook(
        tmp_path / "Trade Fair Leads.xlsx",
        {
            "People": [["E-Mail", "Vorname", "Firma", "Telefon"], ["Jo@Example.com\u200b", "Jo", "Acme", 4917612345678],
                       ["lu@example.com", "Lu", "Beta", None]],
            "Later": [["email", "first_name"], ["max@example.com", "Max"]],
        },
    )  # fmt: skip

    first = run_cli(capsys, "push", "--source", str(book), "--campaign", "Sheets")
    assert first.code == 0, first.err
    leads = {lead["email"]: lead for lead in campaign_leads(env, campaign)}
    assert set(leads) == {"jo@example.com", "lu@example.com"}
    assert leads["jo@example.com"]["payload"]["firstName"] == "Jo"
    assert leads["jo@example.com"]["payload"]["companyName"] == "Acme"
    assert leads["jo@example.com"]["payload"]["phone"] == "4917612345678"

    second = run_cli(capsys, "push", "--source", str(book), "--sheet", "Later", "--campaign", "Sheets")
    assert second.code == 0, second.err
    assert {lead["email"] for lead in campaign_leads(env, campaign)} == {*leads, "max@example.com"}

    missing = run_cli(capsys, "push", "--source", str(book), "--sheet", "Nope", "--campaign", "Sheets")
    assert_one_line_error(missing, "sheet 'Nope'")
    assert pl.read_excel(book, sheet_name="People").height == 2  # the reader the push uses


# -- one export with everything at once -------------------------------------------------------------------


def test_a_windows_export_with_bad_lines_and_loader_columns_sends_only_what_it_should(
    env: Any, tmp_path: Path, warehouse_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    campaign = make_campaign(env, "Export")
    huge = "x" * 2_500_000
    text = (
        "email,Prénom,Nachname,Société,fax,_dlt_load_id,_airbyte_extracted_at,notes\r\n"
        "ana@example.com,Ana,O’Brien,O’Brien – Partners €,,171,2024-01-01,ok\r\n"
        "bo@example.com,Bo,Reid,Reid, Inc.,,171,2024-01-01,split\r\n"
        "\u00a0cy@example.com,Cy,Lee,Acme,,171,2024-01-01,ok\r\n"
        "@example.com,Di,Moe,Acme,,171,2024-01-01,ok\r\n"
        f"ed@example.com,Ed,Roe,Acme,,171,2024-01-01,{huge}\r\n"
        "fi@example.com,Fi,Fox,Acme,,171,2024-01-01,ok\r\n"
    )
    csv = tmp_path / "export.csv"
    csv.write_bytes(text.encode("cp1252"))  # Excel on Western Windows: "CSV (Comma delimited)"

    result = run_cli(capsys, "push", "--source", str(csv), "--campaign", "Export")

    assert result.code == 0, result.err
    leads = {lead["email"]: lead for lead in campaign_leads(env, campaign)}
    assert set(leads) == {"ana@example.com", "cy@example.com", "fi@example.com"}
    payload = leads["ana@example.com"]["payload"]
    assert payload["lastName"] == "O’Brien" and payload["companyName"] == "O’Brien – Partners €"
    assert payload.get("notes") == "ok"
    assert not {"fax", "dlt_load_id", "airbyte_extracted_at"} & set(payload)  # empty and loader columns
    reasons = {r[1]: (r[2], r[3]) for r in _results(warehouse_path)}
    assert reasons["bo@example.com"] == (
        "invalid",
        "line 3: one field too many (9 where the header has 8): is a comma inside a value not quoted?; "
        "the row was not read",
    )
    assert reasons["ed@example.com"][0] == "invalid" and reasons["ed@example.com"][1].startswith(
        "line 6: the row is"
    )
    assert reasons["@example.com"] == (
        "invalid",
        "line 5: invalid email '@example.com': nothing before the @",
    )


def test_a_run_from_the_ui_names_the_parameters_where_the_cli_names_its_options(
    env: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from flows.push_leads import push_leads
    from ops_core.errors import OpsError
    from ops_core.interface import in_cli

    make_campaign(env, "Real")
    missing = tmp_path / "crm.duckdb"
    source = f"duckdb://{missing}"  # duckdb:///abs/path
    # The CLI: the inputs are its options.
    result = run_cli(capsys, "push", "--source", source, "--table", "leads", "--campaign", "Real")
    assert_one_line_error(result, f"error: No such DuckDB file: {missing}. (check the --source path)")
    assert not in_cli()
    # The same flow run from the Prefect UI's form, or a schedule: the inputs are its parameters.
    with pytest.raises(OpsError) as raised:
        push_leads(source=source, table="leads", campaigns=["Real"])
    assert str(raised.value) == f"No such DuckDB file: {missing}. (check the `source` path)"
    with pytest.raises(OpsError) as raised:
        push_leads(source=str(tmp_path / "missing.csv"), campaigns=["Real"])
    assert str(raised.value).endswith("missing.csv. (check the `source` path)")
    with pytest.raises(OpsError) as raised:
        push_leads(source=source, campaigns=["Real"])
    assert str(raised.value) == (
        f"The `table` parameter is needed to read from {source}. (set the `table` parameter)"
    )
    with pytest.raises(OpsError) as raised:
        push_leads(campaigns=["Real"])
    assert str(raised.value) == (
        "The `campaigns` parameter needs the `source` parameter. "
        "(or leave the `campaigns` parameter empty to push every connected table)"
    )
    assert request_count(env) == 0
