"""Scheduled pushes need no arguments: connected tables (ops-instantly connect-table) are pushed to their campaigns."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from flows.push_leads import push_leads
from ops_core.errors import OpsError
from tests.cli._cli_helpers import assert_one_line_error, run_cli
from tests.tasks.push_helpers import campaign_leads, make_campaign

pytestmark = pytest.mark.slow


def test_a_push_without_arguments_pushes_every_connected_table(
    prefect_harness: None, sandbox: Any, warehouse_path: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    monkeypatch.setenv("INSTANTLY_API_KEY", sandbox.api_key)
    monkeypatch.setenv("INSTANTLY_BASE_URL", sandbox.base_url)
    monkeypatch.setenv("OPS_WAREHOUSE", str(warehouse_path))
    first, second = make_campaign(sandbox, "First"), make_campaign(sandbox, "Second")
    csv = tmp_path / "prospects.csv"
    csv.write_text("id,email,first name,team\n1,a@example.com,Ann,red\n2,b@example.com,Bob,blue\n")
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text("exclude: [team]\n")

    with pytest.raises(OpsError, match="Nothing to push"):
        push_leads()
    result = run_cli(
        capsys, "connect-table", "--table", "prospects", "--source", str(csv), "--key", "id",
        "--mapping", str(mapping), "--campaign", "First", "--campaign", second,
    )  # fmt: skip
    assert result.code == 0, result.err

    summary = push_leads()  # default skip_if: campaigns of one table do not block each other

    assert [t["table"] for t in summary["tables"]] == ["prospects"]
    for campaign in (first, second):
        leads = campaign_leads(sandbox, campaign)
        assert sorted(lead["email"] for lead in leads) == ["a@example.com", "b@example.com"]
        assert all("team" not in (lead.get("payload") or {}) for lead in leads)


def test_connect_table_refuses_a_source_url_with_a_password(capsys, warehouse_path, monkeypatch) -> None:
    monkeypatch.setenv("INSTANTLY_API_KEY", "k")
    result = run_cli(
        capsys, "connect-table", "--table", "t", "--campaign", "c",
        "--source", "postgresql://u:hunter2@127.0.0.1/db", "--warehouse", str(warehouse_path),
    )  # fmt: skip
    assert_one_line_error(result, "password")
    assert "hunter2" not in result.err
