"""The CLI speaks the API's shapes: campaign bodies in (either shape), JSON out, settings checked first.

In-process against the sandbox over real HTTP; the campaign commands that change things run their flows on the
session's Prefect harness.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from instantly_client import InstantlyClient
from tests.cli._cli_helpers import assert_one_line_error, run_cli

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
FRIENDLY = str(EXAMPLES / "campaign.yaml")
API_SHAPED = str(EXAMPLES / "campaign.json")
# Fields the API sets on every campaign, so two creations of the same body differ in them.
PER_CREATION = ("id", "timestamp_created", "timestamp_updated")


@pytest.fixture
def env(sandbox: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("INSTANTLY_API_KEY", "sandbox-key")
    monkeypatch.setenv("INSTANTLY_BASE_URL", sandbox.base_url)
    return sandbox


@pytest.fixture
def client(env: Any) -> Any:
    with InstantlyClient(api_key="sandbox-key", base_url=env.base_url) as c:
        yield c


def _id(text: str) -> str:
    match = re.search(r"\(([0-9a-f-]{36})", text)
    assert match, text
    return match.group(1)


def _as_stored(client: InstantlyClient, campaign_id: str, *also_drop: str) -> dict[str, Any]:
    """The campaign as GET /campaigns/{id} returns it, minus what differs between any two creations."""
    stored = client.campaigns.get(campaign_id).model_dump(mode="json", exclude_unset=True)
    return {k: v for k, v in stored.items() if k not in PER_CREATION and k not in also_drop}


def test_an_api_shaped_file_creates_the_same_campaign_as_the_friendly_one(
    env: Any, client: Any, prefect_harness: None, capsys: pytest.CaptureFixture[str]
) -> None:
    friendly = run_cli(capsys, "campaigns", "create", "--file", FRIENDLY)
    assert friendly.code == 0, friendly.err
    # Another name: create refuses a name that is taken.
    api_shaped = run_cli(capsys, "campaigns", "create", "--file", API_SHAPED, "--name", "API-shaped")
    assert api_shaped.code == 0, api_shaped.err
    first, second = _id(friendly.out), _id(api_shaped.out)
    assert first != second
    assert client.campaigns.get(second).name == "API-shaped"
    assert _as_stored(client, second, "name") == _as_stored(client, first, "name")
    assert len(_as_stored(client, second)["sequences"][0]["steps"]) == 3


def test_show_json_piped_into_create_round_trips_through_the_sandbox(
    env: Any,
    client: Any,
    prefect_harness: None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    created = run_cli(capsys, "campaigns", "create", "--file", FRIENDLY)
    original = _id(created.out)
    shown = run_cli(capsys, "campaigns", "show", original, "--json")
    assert shown.code == 0, shown.err
    body = json.loads(shown.out)
    assert (
        body["id"] == original and body["campaign_schedule"]["schedules"][0]["timezone"] == "America/Detroit"
    )

    monkeypatch.setattr("sys.stdin", io.StringIO(shown.out))
    copied = run_cli(capsys, "campaigns", "create", "--file", "-", "--name", "Copy")  # its name is taken
    assert copied.code == 0, copied.err
    assert "note: ignored id, status" in copied.err and "read-only" in copied.err
    assert _as_stored(client, _id(copied.out), "name") == _as_stored(client, original, "name")


def test_an_api_shaped_file_gets_the_same_timezone_advice_as_the_friendly_one(
    env: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body = json.loads(Path(API_SHAPED).read_text())
    body["campaign_schedule"]["schedules"][0]["timezone"] = "America/New_York"
    path = tmp_path / "campaign.json"
    path.write_text(json.dumps(body))
    for args in (["--file", str(path)], ["--file", FRIENDLY, "--timezone", "America/New_York"]):
        result = run_cli(capsys, "campaigns", "create", *args)
        assert_one_line_error(
            result, "Timezone 'America/New_York' is not in Instantly's list; use 'America/Detroit'"
        )


def test_update_takes_an_api_shaped_body_from_stdin(
    env: Any,
    client: Any,
    prefect_harness: None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    cid = _id(run_cli(capsys, "campaigns", "create", "--file", FRIENDLY).out)
    body = json.loads(run_cli(capsys, "campaigns", "show", cid, "--json").out)
    body["daily_limit"] = 75
    body["campaign_schedule"]["schedules"][0]["timing"] = {"from": "08:00", "to": "12:00"}
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(body)))
    updated = run_cli(capsys, "campaigns", "update", cid, "--file", "-")
    assert updated.code == 0, updated.err
    stored = client.campaigns.get(cid)
    assert stored.daily_limit == 75
    assert stored.campaign_schedule["schedules"][0]["timing"] == {"from": "08:00", "to": "12:00"}


# -- --json on every listing and show command -----------------------------------------------------------------


def test_every_list_and_show_command_prints_one_json_document(
    env: Any, client: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    schedule = {
        "name": "s",
        "timing": {"from": "09:00", "to": "17:00"},
        "days": {"1": True},
        "timezone": "America/Chicago",
    }
    cid = str(client.campaigns.create({"name": "Listed", "campaign_schedule": {"schedules": [schedule]}}).id)
    client.webhooks.create(
        {
            "target_hook_url": "https://hooks.example.com/in",
            "event_type": "reply_received",
            "headers": {"x-ops-secret": "s3cret-value"},
        }
    )
    warehouse = str(tmp_path / "w.duckdb")
    connected = run_cli(
        capsys, "connect-table", "--table", "ops.people", "--campaign", cid, "--warehouse", warehouse
    )
    assert connected.code == 0, connected.err

    outputs = {}
    for args in (
        ["campaigns", "list"],
        ["campaigns", "show", "Listed"],
        ["campaigns", "validate", cid],
        ["campaigns", "check", cid],
        ["accounts"],
        ["webhooks", "list"],
        ["connections", "--warehouse", warehouse],
    ):
        result = run_cli(capsys, *args, "--json")
        assert result.code == 0 or args[1] == "check", (args, result.err)  # check exits 1 when blocked
        outputs[args[-1] if args[0] == "connections" else " ".join(args)] = json.loads(result.out)

    assert [c["id"] for c in outputs["campaigns list"]] == [cid]
    assert outputs["campaigns list"][0]["campaign_schedule"]["schedules"][0]["timezone"] == "America/Chicago"
    assert outputs["campaigns show Listed"]["id"] == cid
    assert outputs[f"campaigns validate {cid}"]["status_label"] == "Draft"
    launch = outputs[f"campaigns check {cid}"]
    assert launch["campaign_id"] == cid and {p["level"] for p in launch["problems"]} <= {
        "blocking",
        "warning",
    }
    assert {a["email"] for a in outputs["accounts"]} == {a.email for a in client.accounts.list()}
    hooks = outputs["webhooks list"]
    assert [h["event_type"] for h in hooks] == ["reply_received"]
    assert "s3cret-value" not in json.dumps(hooks)  # the shared secret lives in the headers
    assert [(c["table_name"], c["campaign_id"]) for c in outputs[warehouse]] == [("ops.people", cid)]


def test_connections_json_is_an_empty_list_without_a_warehouse(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = run_cli(capsys, "connections", "--warehouse", str(tmp_path / "none.duckdb"), "--json")
    assert result.code == 0 and json.loads(result.out) == []


# -- settings, credentials and campaigns before any work -------------------------------------------------------


@pytest.fixture
def big_csv(tmp_path: Path) -> Path:
    """200,000 rows: reading or extracting it would take seconds."""
    path = tmp_path / "big.csv"
    rows = "".join(f"p{i}@example{i % 500}.com,P{i},Co{i % 500}\n" for i in range(200_000))
    path.write_text("email,first_name,company\n" + rows)
    return path


@pytest.fixture
def no_prefect(monkeypatch: pytest.MonkeyPatch) -> Any:
    """A Prefect API that never answers: a command that got as far as running its flow fails differently."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings({PREFECT_API_URL: "http://127.0.0.1:9/api"}):
        yield


@pytest.mark.parametrize(
    ("variable", "value", "fragment"),
    [
        ("INSTANTLY_RATE_PER_SECOND", "abc", "INSTANTLY_RATE_PER_SECOND='abc' is invalid"),
        ("INSTANTLY_RATE_PER_SECOND", "500", "INSTANTLY_RATE_PER_SECOND='500' is invalid"),
        ("INSTANTLY_RATE_PER_MINUTE", "0", "INSTANTLY_RATE_PER_MINUTE='0' is invalid"),
        ("INSTANTLY_BASE_URL", "localhost:8765", "INSTANTLY_BASE_URL='localhost:8765' is not an http(s) URL"),
    ],
)
def test_a_bad_setting_fails_a_large_push_before_the_table_is_read(
    env: Any,
    no_prefect: None,
    big_csv: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    variable: str,
    value: str,
    fragment: str,
) -> None:
    monkeypatch.setenv(variable, value)
    warehouse = tmp_path / "w.duckdb"
    result = run_cli(
        capsys, "push", "--source", str(big_csv), "--campaign", "Anything", "--warehouse", str(warehouse)
    )
    assert_one_line_error(result, fragment)
    assert not warehouse.exists()  # no extract happened: the warehouse was never even opened


def test_an_unknown_campaign_fails_a_large_push_before_the_table_is_read(
    env: Any, no_prefect: None, big_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    warehouse = tmp_path / "w.duckdb"
    result = run_cli(
        capsys, "push", "--source", str(big_csv), "--campaign", "No such one", "--warehouse", str(warehouse)
    )
    assert_one_line_error(result, "Unknown campaign 'No such one'")
    assert not warehouse.exists()


def test_a_bad_mapping_file_fails_a_large_push_before_the_table_is_read(
    env: Any, no_prefect: None, big_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    warehouse = tmp_path / "w.duckdb"
    result = run_cli(
        capsys, "push", "--source", str(big_csv), "--campaign", "x", "--mapping", str(tmp_path / "none.yaml"),
        "--warehouse", str(warehouse),
    )  # fmt: skip
    assert_one_line_error(result, "Cannot read the mapping file")
    assert not warehouse.exists()


def test_a_bad_setting_is_refused_before_prefect_is_even_imported(big_csv: Path, tmp_path: Path) -> None:
    # In a fresh process, as a user runs it: importing Prefect alone costs more than a second, so the
    # environment's settings must be checked before anything imports it.
    code = (
        "import sys\n"
        "from ops_instantly.cli import main\n"
        "try:\n"
        f"    main(['push', '--source', {str(big_csv)!r}, '--campaign', 'x', '--warehouse', {str(tmp_path / 'w.duckdb')!r}])\n"
        "except SystemExit as exc:\n"
        "    print(exc.code, 'prefect' in sys.modules)\n"
    )
    env = {**os.environ, "INSTANTLY_API_KEY": "k", "INSTANTLY_RATE_PER_SECOND": "abc"}
    env.pop("OPS_CREDENTIALS_BLOCK", None)
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert done.stdout.split() == ["1", "False"], done
    assert "INSTANTLY_RATE_PER_SECOND='abc' is invalid" in done.stderr


def test_every_listing_and_show_command_offers_json() -> None:
    # Any command named like a listing or a show (now or added later) must take --json.
    import typer.main

    from ops_instantly.cli import app

    def walk(command: Any, path: tuple[str, ...]) -> Any:
        for name, sub in getattr(command, "commands", {}).items():
            yield from walk(sub, (*path, name))
        if not hasattr(command, "commands"):
            yield path, command

    readers = {"list", "show", "validate", "check", "accounts", "connections"}
    found = {
        " ".join(path): {opt for param in command.params for opt in getattr(param, "opts", [])}
        for path, command in walk(typer.main.get_command(app), ())
        if path and path[-1] in readers
    }
    assert {"campaigns list", "campaigns show", "accounts", "connections", "webhooks list"} <= set(found)
    assert [name for name, opts in found.items() if "--json" not in opts] == []


def test_campaign_writes_print_the_campaign_as_one_json_document(
    env: Any, client: Any, prefect_harness: None, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    created = run_cli(capsys, "campaigns", "create", "--file", FRIENDLY, "--name", "Json write", "--json")
    assert created.code == 0, created.err
    campaign = json.loads(created.out)  # stdout is the document and nothing else: a script takes the id
    assert client.campaigns.get(campaign["id"]).name == "Json write"
    assert (campaign["name"], campaign["status_label"]) == ("Json write", "Draft")

    copied = json.loads(
        run_cli(capsys, "campaigns", "duplicate", campaign["id"], "--name", "Json copy", "--json").out
    )
    assert copied["id"] != campaign["id"] and client.campaigns.get(copied["id"]).name == "Json copy"
    updated = json.loads(
        run_cli(capsys, "campaigns", "update", copied["id"], "--daily-limit", "40", "--json").out
    )
    assert updated["daily_limit"] == 40 == client.campaigns.get(copied["id"]).daily_limit
    paused = json.loads(run_cli(capsys, "campaigns", "pause", copied["id"], "--json").out)
    assert paused["id"] == copied["id"] and paused["status_label"] == "Paused"
    deleted = json.loads(run_cli(capsys, "campaigns", "delete", copied["id"], "--yes", "--json").out)
    assert deleted["id"] == copied["id"]
    assert [c.id for c in client.campaigns.list()] == [campaign["id"]]
