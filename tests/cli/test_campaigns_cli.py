"""`ops-instantly campaigns ...` and `accounts` in-process against the sandbox over real HTTP."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import pytest

from instantly_client import InstantlyClient, NotFoundError
from tests.cli._cli_helpers import assert_one_line_error, run_cli

EXAMPLE = str(Path(__file__).resolve().parents[2] / "examples" / "campaign.yaml")
MY_COMMANDS = [
    ["campaigns"],
    *[
        ["campaigns", c]
        for c in ("list", "show", "create", "update", "activate", "pause", "delete", "duplicate")
    ],
    ["campaigns", "validate"],
    ["campaigns", "check"],
    ["accounts"],
    ["login"],
    ["connect-table"],
    ["connections"],
    ["report"],
]


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


@pytest.mark.parametrize("command", MY_COMMANDS, ids=" ".join)
def test_every_command_help_has_an_example(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    result = run_cli(capsys, *command, "--help")
    assert result.code == 0
    assert "Example: ops-instantly" in result.out


@pytest.mark.slow  # about 10 s: eight commands, six of them flow runs
def test_campaign_commands_round_trip_through_the_sandbox(
    env: Any, client: Any, prefect_harness: None, capsys: pytest.CaptureFixture[str]
) -> None:
    created = run_cli(capsys, "campaigns", "create", "--file", EXAMPLE)
    assert created.code == 0, created.err
    cid = _id(created.out)
    campaign = client.campaigns.get(cid)
    assert (campaign.name, campaign.status, campaign.daily_limit) == ("Q3 founders outreach", 0, 50)
    assert len(campaign.sequences[0]["steps"]) == 3
    assert campaign.campaign_schedule["schedules"][0]["timezone"] == "America/Detroit"

    listed = run_cli(capsys, "campaigns", "list")
    assert (
        listed.code == 0
        and cid in listed.out
        and "Q3 founders outreach" in listed.out
        and "Draft" in listed.out
    )

    updated = run_cli(
        capsys, "campaigns", "update", "Q3 founders outreach", "--daily-limit", "80", "--days", "mon-wed",
        "--no-open-tracking",
    )  # fmt: skip
    assert updated.code == 0, updated.err
    campaign = client.campaigns.get(cid)
    assert campaign.daily_limit == 80 and campaign.open_tracking is False
    schedule = campaign.campaign_schedule["schedules"][0]
    assert schedule["days"] == {
        "0": False,
        "1": True,
        "2": True,
        "3": True,
        "4": False,
        "5": False,
        "6": False,
    }
    assert schedule["timing"] == {"from": "09:00", "to": "17:00"}  # unchanged parts kept

    shown = run_cli(capsys, "campaigns", "show", cid)
    assert shown.code == 0 and "mon,tue,wed" in shown.out and "09:00-17:00" in shown.out

    assert run_cli(capsys, "campaigns", "activate", cid).code == 1  # the pre-launch check wants a sender
    attached = run_cli(
        capsys, "campaigns", "update", cid, "--account", "ava@outreach-sandbox.io"
    )  # README's way
    assert attached.code == 0, attached.err
    assert client.campaigns.get(cid).email_list == ["ava@outreach-sandbox.io"]
    assert run_cli(capsys, "campaigns", "activate", cid).code == 0
    assert client.campaigns.get(cid).status == 1
    assert run_cli(capsys, "campaigns", "pause", "Q3 founders outreach").code == 0
    assert client.campaigns.get(cid).status == 2

    validated = run_cli(capsys, "campaigns", "validate", "Q3 founders outreach")
    assert validated.code == 0
    assert f"'Q3 founders outreach' ({cid}) is Paused; no analytics yet" in validated.out

    copied = run_cli(capsys, "campaigns", "duplicate", cid, "--name", "Q4 founders")
    assert copied.code == 0, copied.err
    copy_id = _id(copied.out)
    assert copy_id != cid and client.campaigns.get(copy_id).name == "Q4 founders"

    deleted = run_cli(capsys, "campaigns", "delete", copy_id, "--yes")
    assert deleted.code == 0, deleted.err
    with pytest.raises(NotFoundError):
        client.campaigns.get(copy_id)
    assert [c.id for c in client.campaigns.list()] == [cid]


def test_create_refuses_a_name_that_is_taken_so_names_stay_unambiguous(
    env: Any, client: Any, prefect_harness: None, capsys: pytest.CaptureFixture[str]
) -> None:

    first = run_cli(capsys, "campaigns", "create", "--file", EXAMPLE)
    assert first.code == 0, first.err
    cid = _id(first.out)
    again = run_cli(capsys, "campaigns", "create", "--file", EXAMPLE)
    assert_one_line_error(
        again, f"A campaign named 'Q3 founders outreach' already exists (id {cid})", "campaigns update"
    )
    assert [c.id for c in client.campaigns.list()] == [cid]
    assert run_cli(capsys, "campaigns", "pause", "Q3 founders outreach").code == 0  # the name still resolves


def test_an_account_the_workspace_lacks_is_refused_before_any_write(
    env: Any, client: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    schedule = {
        "name": "s",
        "timing": {"from": "09:00", "to": "17:00"},
        "days": {"1": True},
        "timezone": "America/Chicago",
    }
    cid = client.campaigns.create({"name": "Senders", "campaign_schedule": {"schedules": [schedule]}}).id
    before = client.campaigns.get(cid).email_list
    known = next(a.email for a in client.accounts.list())
    result = run_cli(
        capsys, "campaigns", "update", "Senders", "--account", known, "--account", "nobody@nowhere.io"
    )
    assert_one_line_error(result, "not in this workspace: nobody@nowhere.io", "ops-instantly accounts")
    assert known not in result.err  # only the unknown one is named
    assert client.campaigns.get(cid).email_list == before
    created = run_cli(capsys, "campaigns", "create", "--file", EXAMPLE, "--account", "nobody@nowhere.io")
    assert_one_line_error(created, "not in this workspace: nobody@nowhere.io", "ops-instantly accounts")
    assert [c.id for c in client.campaigns.list()] == [cid]


class _Terminal(io.StringIO):
    """Standard input that is a terminal, with the answer already typed."""

    def isatty(self) -> bool:
        return True


def _draft(client: Any, name: str) -> str:
    schedule = {
        "name": "s",
        "timing": {"from": "09:00", "to": "17:00"},
        "days": {"1": True},
        "timezone": "America/Chicago",
    }
    return str(client.campaigns.create({"name": name, "campaign_schedule": {"schedules": [schedule]}}).id)


@pytest.mark.parametrize(
    ("typed", "why"), [("n\n", "not confirmed"), ("\n", "not confirmed"), ("", "no answer")], ids=repr
)
def test_delete_asks_on_stderr_and_a_no_or_no_answer_is_one_error_naming_yes(
    typed: str,
    why: str,
    env: Any,
    client: Any,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cid = _draft(client, "Keep me")
    monkeypatch.setattr("sys.stdin", _Terminal(typed))
    result = run_cli(capsys, "campaigns", "delete", "Keep me", "--json")
    assert result.code != 0 and result.out == ""  # stdout is for the JSON document only
    assert result.err.startswith(f"Delete campaign 'Keep me' ({cid}, Draft)? [y/N]: ")
    error = (
        result.err.rstrip("\n").rsplit("\n", 1)[-1].split("[y/N]: ")[-1]
    )  # the typed newline is not echoed
    assert error.startswith("error: Campaign 'Keep me' not deleted: ") and why in error and "--yes" in error
    assert client.campaigns.get(cid).name == "Keep me"


@pytest.mark.parametrize("piped", ["y\n", ""], ids=["echo y |", "no input"])
def test_delete_without_a_terminal_asks_nothing_and_fails_in_one_line_naming_yes(
    piped: str,
    env: Any,
    client: Any,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cid = _draft(client, "Keep me")
    monkeypatch.setattr("sys.stdin", io.StringIO(piped))
    result = run_cli(capsys, "campaigns", "delete", "Keep me", "--json")
    assert result.out == ""
    assert_one_line_error(result, "error: Campaign 'Keep me' not deleted: no terminal", "pass --yes")
    assert client.campaigns.get(cid).name == "Keep me"


def test_delete_confirmed_in_a_terminal_prints_only_the_json_on_stdout(
    env: Any,
    client: Any,
    prefect_harness: None,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cid = _draft(client, "Delete me")
    monkeypatch.setattr("sys.stdin", _Terminal("maybe\ny\n"))
    result = run_cli(capsys, "campaigns", "delete", "Delete me", "--json")
    assert result.code == 0, result.err
    assert json.loads(result.out)["id"] == cid
    assert result.err.count("[y/N]: ") == 2 and "Please answer y or n." in result.err
    with pytest.raises(NotFoundError):
        client.campaigns.get(cid)


@pytest.mark.parametrize(("action", "label"), [("pause", "Paused"), ("activate", "Active")])
def test_pause_or_activate_when_already_there_says_so_exits_0_and_sends_nothing(
    action: str, label: str, env: Any, client: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    cid = _draft(client, "Q3")
    client.campaigns.activate(cid)
    if action == "pause":
        client.campaigns.pause(cid)
    env.admin("POST", "stats/reset")
    result = run_cli(capsys, "campaigns", action, "Q3")
    assert (result.code, result.out, result.err) == (0, f"'Q3' ({cid}) is already {label}\n", "")
    as_json = run_cli(capsys, "campaigns", action, cid, "--json")
    assert as_json.code == 0 and as_json.err == ""
    assert json.loads(as_json.out) == {
        "id": cid, "name": "Q3", "status": 2 if action == "pause" else 1, "status_label": label,
        "daily_limit": None, "timezone": "America/Chicago", "steps": 0,
    }  # fmt: skip
    assert not [path for path in env.stats["per_path"] if path.startswith("POST")]


def test_accounts_lists_status_warmup_and_daily_limit(
    env: Any, client: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    accounts = list(client.accounts.list())
    assert accounts, "the sandbox seeds sending accounts"
    result = run_cli(capsys, "accounts")
    assert result.code == 0, result.err
    for account in accounts:
        assert account.email in result.out
    assert "warmup" in result.out and "daily limit" in result.out
    assert run_cli(capsys, "accounts", "list").out == result.out  # like `campaigns list`
    assert_one_line_error(run_cli(capsys, "accounts", "lsit"), "Unknown accounts command 'lsit'")


# -- bad input: one line, non-zero exit, never a traceback -------------------------------------------------


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (
            ["campaigns", "create", "--file", EXAMPLE, "--timezone", "America/New_York"],
            [
                "Timezone 'America/New_York' is not in Instantly's list;",
                "use 'America/Detroit' (same UTC offset)",
            ],
        ),
        (
            ["campaigns", "update", "anything", "--timezone", "Europe/London"],
            ["use 'Europe/Isle_of_Man'"],
        ),
        (
            ["campaigns", "create", "--name", "x", "--timezone", "America/Chicago", "--days", "funday"],
            ["funday"],
        ),
        (
            ["campaigns", "create", "--file", "/nonexistent/campaign.yaml"],
            ["Cannot read /nonexistent/campaign.yaml"],
        ),
        (["campaigns", "validate", "No such campaign"], ["no campaign named 'No such campaign'"]),
        (["campaigns", "show", "019a0000-0000-7000-8000-000000000000"], ["not found"]),
        (["campaigns", "activate", "No such campaign"], ["no campaign named"]),
        (["campaigns", "delete", "No such campaign", "--yes"], ["no campaign named"]),
        (["connect-table", "--table", "ops.t", "--campaign", "No such campaign"], ["no campaign named"]),
        (["report", "--warehouse", "/nonexistent/w.duckdb"], ["No warehouse at /nonexistent/w.duckdb"]),
        (["campaigns", "update", "x"], ["Nothing to update"]),
    ],
)
def test_bad_input_is_one_line_and_a_non_zero_exit(
    env: Any, args: list[str], fragments: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert_one_line_error(run_cli(capsys, *args), *fragments)


@pytest.mark.parametrize(
    "args",
    [
        ["campaigns", "pause", "q3 founders outreach"],
        ["campaigns", "show", "q3 founders outreach"],
        ["campaigns", "validate", "q3 founders outreach"],
    ],
    ids=" ".join,
)
def test_a_name_in_the_wrong_case_is_refused_naming_the_right_one(
    env: Any, args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.tasks.push_helpers import make_campaign

    make_campaign(env, "Q3 founders outreach")
    make_campaign(env, "Q3 founders outreach (copy)")
    assert_one_line_error(
        run_cli(capsys, *args),
        "no campaign named 'q3 founders outreach' (did you mean 'Q3 founders outreach'?)",
        "names are matched exactly",
    )


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--from", "25:00"], "Schedule from time '25:00' is not HH:MM"),
        (["--from", "18:00", "--to", "09:00"], "from time 18:00 must be before its to time 09:00"),
    ],
)
def test_an_update_with_a_bad_time_fails_before_any_api_call_or_flow_run(
    env: Any, args: list[str], fragment: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # Seen: `campaigns update NAME --from 25:00` failed inside its flow run, so the Prefect server the CLI
    # points at kept a Failed run for a typo. Checked first, the campaign is not even looked up.
    assert_one_line_error(run_cli(capsys, "campaigns", "update", "No such campaign", *args), fragment)


def test_an_update_with_an_unknown_option_fails_before_any_api_call(
    env: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    changes = tmp_path / "changes.yaml"
    changes.write_text("options:\n  bogus_field: 1\n")
    assert_one_line_error(
        run_cli(capsys, "campaigns", "update", "No such campaign", "--file", str(changes)),
        "Invalid campaign: bogus_field: Extra inputs are not permitted",
    )


def test_a_misspelt_name_is_refused_naming_the_close_one(
    env: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    # The API's name search matches substrings, so 'Q3 founder outreach' found nothing to suggest.
    from tests.tasks.push_helpers import make_campaign

    make_campaign(env, "Q3 founders outreach")
    make_campaign(env, "Autumn webinar")
    assert_one_line_error(
        run_cli(capsys, "campaigns", "show", "Q3 founder outreach"),
        "no campaign named 'Q3 founder outreach' (did you mean 'Q3 founders outreach'?)",
    )


def test_bad_yaml_file_is_one_line(env: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [oops\nschedule: {\n")
    assert_one_line_error(
        run_cli(capsys, "campaigns", "create", "--file", str(bad)), "is not valid YAML at line"
    )


@pytest.mark.parametrize(
    ("key", "fragments"),
    [
        ("wrong-key", ["rejected the API key", "HTTP 401"]),
        ("sandbox-unpaid", ["no active paid plan", "HTTP 402"]),
    ],
)
def test_api_refusals_are_explained_in_words(
    env: Any,
    key: str,
    fragments: list[str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("INSTANTLY_API_KEY", key)
    for args in (["campaigns", "list"], ["accounts"], ["campaigns", "validate", "x"]):
        assert_one_line_error(run_cli(capsys, *args), *fragments)


def test_missing_scope_inside_a_flow_is_one_line_without_traceback(
    env: Any, prefect_harness: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("INSTANTLY_API_KEY", "sandbox-readonly-1")  # reads pass, writes get 403
    result = run_cli(capsys, "campaigns", "create", "--file", EXAMPLE)
    assert_one_line_error(result, "lacks the scope", "HTTP 403")


def test_missing_block_is_one_line(prefect_harness: None, capsys: pytest.CaptureFixture[str]) -> None:
    result = run_cli(capsys, "campaigns", "list", "--credentials", "no-such-block")
    assert_one_line_error(result, "No InstantlyCredentials block named 'no-such-block'")


def test_no_reachable_prefect_api_is_one_line(env: Any, capsys: pytest.CaptureFixture[str]) -> None:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings({PREFECT_API_URL: "http://127.0.0.1:9/api"}):
        result = run_cli(capsys, "campaigns", "pause", "anything-at-all", "--credentials", "default")
    assert_one_line_error(result, "No reachable Prefect API at http://127.0.0.1:9/api")


def test_no_reachable_prefect_api_hides_the_password_of_its_url(
    env: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings({PREFECT_API_URL: "http://ops:SECRETpw@127.0.0.1:9/api"}):
        result = run_cli(capsys, "campaigns", "pause", "anything-at-all", "--credentials", "default")
    assert_one_line_error(result, "No reachable Prefect API at http://ops:***@127.0.0.1:9/api")
    assert "SECRETpw" not in result.err + result.out


def test_duplicate_refuses_a_name_that_is_taken_as_create_does(
    env: Any, client: Any, prefect_harness: None, capsys: pytest.CaptureFixture[str]
) -> None:
    cid = _id(run_cli(capsys, "campaigns", "create", "--file", EXAMPLE).out)
    again = run_cli(
        capsys, "campaigns", "duplicate", "Q3 founders outreach", "--name", "Q3 founders outreach"
    )
    assert_one_line_error(
        again, f"A campaign named 'Q3 founders outreach' already exists (id {cid})", "--name"
    )
    assert [c.id for c in client.campaigns.list()] == [cid]
    assert run_cli(capsys, "campaigns", "pause", "Q3 founders outreach").code == 0  # the name still resolves


def test_a_name_differing_from_a_campaign_only_in_case_or_spaces_is_refused_except_for_itself(
    env: Any, client: Any, prefect_harness: None, capsys: pytest.CaptureFixture[str]
) -> None:
    cid = _id(run_cli(capsys, "campaigns", "create", "--file", EXAMPLE).out)
    look_alike = run_cli(capsys, "campaigns", "create", "--file", EXAMPLE, "--name", " q3 Founders outreach")
    assert_one_line_error(
        look_alike,
        f"A campaign named 'Q3 founders outreach' already exists (id {cid}); "
        "' q3 Founders outreach' differs from it only in case or spaces.",
    )
    copy = run_cli(capsys, "campaigns", "duplicate", "Q3 founders outreach", "--name", "Q3 FOUNDERS OUTREACH")
    assert_one_line_error(copy, "'Q3 FOUNDERS OUTREACH' differs from it only in case or spaces")
    assert [c.id for c in client.campaigns.list()] == [cid]  # nothing created or copied

    renamed = run_cli(capsys, "campaigns", "update", "Q3 founders outreach", "--name", "Q3 Founders Outreach")
    assert renamed.code == 0, renamed.err  # a campaign may change the case of its own name
    assert client.campaigns.get(cid).name == "Q3 Founders Outreach"


def test_create_from_flags_without_a_timezone_says_which_flag_to_add(
    env: Any, client: Any, prefect_harness: None, capsys: pytest.CaptureFixture[str]
) -> None:
    bare = run_cli(capsys, "campaigns", "create", "--name", "Bare")
    assert_one_line_error(
        bare, "a campaign needs a sending schedule, at least its timezone", "e.g. --timezone America/Detroit"
    )
    days_only = run_cli(capsys, "campaigns", "create", "--name", "Bare", "--days", "mon-fri")
    assert_one_line_error(days_only, "The schedule needs a timezone.", "e.g. --timezone America/Detroit")
    assert list(client.campaigns.list()) == []
    made = run_cli(capsys, "campaigns", "create", "--name", "Bare", "--timezone", "America/Detroit")
    assert made.code == 0, made.err  # the hint's flag is enough


def test_list_shows_a_campaign_name_with_brackets_as_written(
    env: Any, client: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    # Was: rich read `[EU]` as markup, and `campaigns list` showed `Q3` for the campaign `Q3 [EU]`.
    always = {"timing": {"from": "00:00", "to": "23:59"}, "days": {"1": True}, "timezone": "America/Detroit"}
    schedule = {"schedules": [{"name": "Always", **always}]}
    client.campaigns.create({"name": "Q3 [EU] [bold]launch[/bold]", "campaign_schedule": schedule})
    listed = run_cli(capsys, "campaigns", "list")
    assert listed.code == 0, listed.err
    assert "Q3 [EU] [bold]launch[/bold]" in listed.out, listed.out


def test_deleting_a_connected_campaign_says_which_tables_are_still_connected_to_it(
    env: Any,
    client: Any,
    prefect_harness: None,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("OPS_WAREHOUSE", str(tmp_path / "warehouse.duckdb"))
    cid = _draft(client, "Old")
    csv = tmp_path / "hooks.csv"
    csv.write_text("email\na@example.com\n")
    connected = run_cli(
        capsys, "connect-table", "--table", "ops.hooks", "--source", str(csv), "--campaign", cid
    )
    assert connected.code == 0, connected.err

    result = run_cli(capsys, "campaigns", "delete", "Old", "--yes")

    assert result.code == 0, result.err
    assert result.out == f"deleted 'Old' ({cid})\n"
    assert result.err.strip() == (
        f"note: ops.hooks is still connected to it in {tmp_path / 'warehouse.duckdb'}; its next push fails "
        f"until you run `ops-instantly connections --table ops.hooks --remove --campaign {cid}`"
    )
    removed = run_cli(capsys, "connections", "--table", "hooks", "--remove")  # either spelling
    assert removed.code == 0 and removed.out == "removed 1 connection(s) of hooks\n"
