"""`ops-instantly connect-table` and `connections`: campaigns are checked, then recorded."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from instantly_client import InstantlyClient
from tests.cli._cli_helpers import assert_one_line_error, run_cli
from warehouse.connections import list_connections
from warehouse.db import Warehouse

SCHEDULE = {
    "name": "s",
    "timing": {"from": "09:00", "to": "17:00"},
    "days": {"1": True},
    "timezone": "America/Chicago",
}


@pytest.fixture
def campaigns(sandbox: Any, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setenv("INSTANTLY_API_KEY", "sandbox-key")
    monkeypatch.setenv("INSTANTLY_BASE_URL", sandbox.base_url)
    with InstantlyClient(api_key="sandbox-key", base_url=sandbox.base_url) as client:
        return {
            name: str(
                client.campaigns.create({"name": name, "campaign_schedule": {"schedules": [SCHEDULE]}}).id
            )
            for name in ("Founders", "Agencies")
        }


def test_connect_table_records_each_validated_campaign(
    campaigns: dict[str, str], warehouse_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text("fields:\n  email: Work Email\nexclude: [Notes]\n")
    result = run_cli(
        capsys, "connect-table", "--table", "ops.prospects", "--campaign", "Founders",
        "--campaign", campaigns["Agencies"], "--key", "id", "--mapping", str(mapping),
        "--warehouse", str(warehouse_path),
    )  # fmt: skip
    assert result.code == 0, result.err
    assert (
        "connected ops.prospects -> 'Founders'" in result.out
        and "no analytics yet: Instantly counts its leads once it sends" in result.out
        and "leads 0" not in result.out
    )

    with Warehouse(warehouse_path).connect(read_only=True) as con:
        rows = list_connections(con)
    assert [(c.table_name, c.campaign_name, c.campaign_id) for c in rows] == [
        ("ops.prospects", "Agencies", campaigns["Agencies"]),
        ("ops.prospects", "Founders", campaigns["Founders"]),
    ]
    assert rows[0].key_column == "id" and rows[0].mapping == {
        "fields": {"email": "Work Email"},
        "exclude": ["Notes"],
    }

    listed = run_cli(capsys, "connections", "--warehouse", str(warehouse_path))
    assert listed.code == 0 and "2 connection(s)" in listed.out and campaigns["Founders"] in listed.out

    removed = run_cli(
        capsys, "connections", "--table", "ops.prospects", "--remove", "--campaign", "Founders",
        "--warehouse", str(warehouse_path),
    )  # fmt: skip
    assert removed.code == 0 and "removed 1 connection(s)" in removed.out
    with Warehouse(warehouse_path).connect(read_only=True) as con:
        assert [c.campaign_name for c in list_connections(con)] == ["Agencies"]


def test_an_unknown_campaign_connects_nothing(
    campaigns: dict[str, str], warehouse_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = run_cli(
        capsys, "connect-table", "--table", "ops.prospects", "--campaign", "Founders", "--campaign", "Nope",
        "--warehouse", str(warehouse_path),
    )  # fmt: skip
    assert_one_line_error(result, "no campaign named 'Nope'")
    assert not warehouse_path.exists()  # checked before anything is written


def test_a_bad_mapping_file_is_one_line(
    campaigns: dict[str, str], warehouse_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text("colums: {}\n")
    result = run_cli(
        capsys, "connect-table", "--table", "t", "--campaign", "Founders", "--mapping", str(mapping),
        "--warehouse", str(warehouse_path),
    )  # fmt: skip
    assert_one_line_error(result, "colums")


@pytest.mark.parametrize(
    ("header", "options", "error"),
    [
        ("email,Instantly_Reply_Count", [], "has a column named Instantly_Reply_Count"),
        ("name,id", [], "No email column found (columns: name, id)"),
        ("email,id", ["--key", "crm_id"], "The --key column 'crm_id' is not in"),
        ("email,id", ["--mapping", "MAPPING"], "'Work Email'"),
    ],
)
def test_a_source_whose_header_the_push_would_refuse_connects_nothing(
    campaigns: dict[str, str],
    warehouse_path: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    header: str,
    options: list[str],
    error: str,
) -> None:
    csv = tmp_path / "leads.csv"
    csv.write_text(f"{header}\na@example.com,1\n")
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text("fields:\n  email: Work Email\n")
    options = [str(mapping) if o == "MAPPING" else o for o in options]
    result = run_cli(
        capsys, "connect-table", "--table", "ops.leads", "--campaign", "Founders", "--source", str(csv),
        *options, "--warehouse", str(warehouse_path),
    )  # fmt: skip
    assert_one_line_error(result, error)
    assert not warehouse_path.exists()  # refused before anything is written


def test_a_postgres_source_unreachable_from_here_is_noted_and_connected(
    campaigns: dict[str, str], warehouse_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = "postgresql://postgres@127.0.0.1:1/test"  # nothing listens on port 1
    result = run_cli(
        capsys, "connect-table", "--table", "public.leads", "--campaign", "Founders", "--source", url,
        "--warehouse", str(warehouse_path),
    )  # fmt: skip
    assert result.code == 0, result.err
    assert (
        "note: the source's columns are not checked from this machine: Cannot connect to Postgres at " + url
        in (result.out)
    )
    with Warehouse(warehouse_path).connect(read_only=True) as con:
        assert [(c.table_name, c.source) for c in list_connections(con)] == [("public.leads", url)]


@pytest.mark.parametrize(
    "url", ["postgresql://postgres@127.0.0.1:5432/no_such_db", "postgresql://nobody@127.0.0.1:5432/test"]
)
def test_a_postgres_server_that_answers_no_connects_nothing(
    campaigns: dict[str, str],
    warehouse_path: Path,
    capsys: pytest.CaptureFixture[str],
    url: str,
    postgres_url: str,  # the server is up: it is the one answering no
) -> None:
    result = run_cli(
        capsys, "connect-table", "--table", "public.leads", "--campaign", "Founders", "--source", url,
        "--warehouse", str(warehouse_path),
    )  # fmt: skip
    assert_one_line_error(result, "does not exist")  # the server's answer: the same from any worker
    assert not warehouse_path.exists()
