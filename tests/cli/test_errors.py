"""Every command turns bad input into one line on stderr and a non-zero exit, never a traceback."""

from __future__ import annotations

import pytest

from ops_instantly.cli import app
from tests.cli._cli_helpers import assert_one_line_error, run_cli


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["sandbox", "--port", "99999"], "65535"),
        (["nosuch"], "No such command"),
        (["campaigns", "list"], "INSTANTLY_API_KEY"),
        (["push", "--campaign", "x"], "source"),
        (["push", "--source", "missing-file.csv", "--campaign", "x"], "missing-file.csv"),
        (["sync"], "INSTANTLY_API_KEY"),
        (["webhooks", "listen"], "OPS_WEBHOOK_SECRET"),
    ],
)
def test_bad_input_is_one_line_and_a_nonzero_exit(argv, expected, monkeypatch, tmp_path, capsys) -> None:
    monkeypatch.delenv("INSTANTLY_API_KEY", raising=False)
    monkeypatch.delenv("OPS_WEBHOOK_SECRET", raising=False)
    monkeypatch.chdir(tmp_path)
    assert_one_line_error(run_cli(capsys, *argv), expected)


@pytest.mark.slow  # about 12 s: the client retries the refused connection before giving up
def test_an_unreachable_api_url_is_one_line_without_its_password(monkeypatch, capsys) -> None:
    monkeypatch.setenv("INSTANTLY_API_KEY", "k")
    monkeypatch.setenv("INSTANTLY_BASE_URL", "http://user:SECRETpw@127.0.0.1:1/api/v2")
    result = run_cli(capsys, "campaigns", "list")
    assert_one_line_error(result, "could not reach http://user:***@127.0.0.1:1/api/v2")
    assert "SECRETpw" not in result.err + result.out


@pytest.mark.parametrize("dry_run", [["--dry-run"], []])
def test_a_libpq_connection_string_as_the_source_is_echoed_without_its_password(
    dry_run, monkeypatch, tmp_path, capsys
) -> None:
    monkeypatch.setenv("INSTANTLY_API_KEY", "k")
    monkeypatch.chdir(tmp_path)
    source = "host=127.0.0.1 user=postgres password=SECRETpg3 dbname=test"
    result = run_cli(capsys, "push", "--source", source, "--campaign", "X", *dry_run)
    assert_one_line_error(result, "host=127.0.0.1 user=postgres password=*** dbname=test")
    assert "SECRETpg3" not in result.err + result.out


def test_every_command_has_help_with_an_example(capsys) -> None:
    import typer.main

    group = typer.main.get_command(app)
    commands = []

    def walk(command, path):
        subcommands = getattr(command, "commands", None)
        if subcommands:
            for name, sub in subcommands.items():
                walk(sub, [*path, name])
        else:
            commands.append(path)

    walk(group, [])
    assert len(commands) > 15
    for path in commands:
        result = run_cli(capsys, *path, "--help")
        assert result.code == 0
        assert "Example:" in result.out, f"`ops-instantly {' '.join(path)} --help` has no example"


def test_a_bad_option_value_names_the_option_and_exits_2(capsys) -> None:
    result = run_cli(capsys, "push", "--source", "x.csv", "--campaign", "c", "--batch-size", "0")
    assert_one_line_error(result, "'--batch-size'", "ops-instantly push --help")
    assert result.code == 2


def test_a_timeout_the_flow_would_refuse_is_refused_at_once_and_help_shows_the_range(capsys) -> None:
    result = run_cli(capsys, "push", "--source", "x.csv", "--campaign", "c", "--timeout", "601")
    assert_one_line_error(result, "'--timeout'", "less than or equal to 600")
    assert result.code == 2
    assert "0.1<=x<=600" in run_cli(capsys, "push", "--help").out


# CLI options that set a flow parameter with bounds: (command, option) -> (flow, parameter).
BOUNDED_OPTIONS = {
    ("push", "batch_size"): ("flows.push_leads:push_leads", "batch_size"),
    ("push", "timeout"): ("flows.push_leads:push_leads", "timeout_seconds"),
    ("push", "wait"): ("flows.push_leads:push_leads", "wait_seconds"),
    ("sync", "lookback_days"): ("flows.sync_engagement:sync_engagement", "lookback_days"),
}


def test_options_that_set_a_bounded_flow_parameter_have_its_bounds() -> None:
    import importlib
    import typing

    import typer.main

    group = typer.main.get_command(app)
    ranged = {
        (command, p.name)
        for command in ("push", "sync")
        for p in group.commands[command].params
        if getattr(p, "min", None) is not None or getattr(p, "max", None) is not None
    }
    assert ranged == set(BOUNDED_OPTIONS)  # a new bounded option names its flow parameter above
    for (command, name), (target, parameter) in BOUNDED_OPTIONS.items():
        module, attr = target.split(":")
        flow = getattr(importlib.import_module(module), attr)
        (field,) = typing.get_type_hints(flow.fn, include_extras=True)[parameter].__metadata__
        bounds = {k: getattr(m, k) for m in field.metadata for k in ("ge", "gt", "le", "lt") if hasattr(m, k)}
        option = next(p for p in group.commands[command].params if p.name == name)
        # Inclusive bounds only: `--help` shows them as `MIN<=x<=MAX`.
        assert bounds == {"ge": option.min, "le": option.max}, (command, name, bounds)


def test_an_unreachable_ducklake_fails_before_prefect_is_asked(monkeypatch, tmp_path, capsys) -> None:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    csv = tmp_path / "leads.csv"
    csv.write_text("email\na@x.co\n")
    monkeypatch.setenv("INSTANTLY_API_KEY", "k")
    monkeypatch.setenv("INSTANTLY_BASE_URL", "http://127.0.0.1:1/api/v2")  # never reached either
    lake = "ducklake:postgres:dbname=nope host=127.0.0.1 port=1 user=postgres password=s3cr3t"
    # A Prefect API that is not there: asked first, the error would be "No reachable Prefect API".
    with temporary_settings(updates={PREFECT_API_URL: "http://127.0.0.1:1/api"}):
        for argv in (["push", "--source", str(csv), "--campaign", "c"], ["sync"]):
            result = run_cli(capsys, *argv, "--warehouse", lake)
            assert_one_line_error(result, "Cannot open the warehouse ducklake:postgres:dbname=nope")
            assert "s3cr3t" not in result.err


@pytest.mark.parametrize(
    ("argv", "hint"),
    [
        (["push", "--source", "leads.csv", "--campaign", "Q3"], "Run the same push again"),
        (["campaigns", "list"], None),
    ],
)
def test_ctrl_c_says_interrupted_and_what_to_do_and_exits_130(
    argv, hint, monkeypatch, tmp_path, capsys
) -> None:
    """typer turns Ctrl-C into a silent exit code 130 (non-standalone mode): main() says it in one line."""
    from ops_instantly.cli import campaigns as campaigns_cli
    from ops_instantly.cli import push as push_cli

    def ctrl_c(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.chdir(tmp_path)
    (tmp_path / "leads.csv").write_text("email\na@example.com\n")
    monkeypatch.setenv("INSTANTLY_API_KEY", "k")
    monkeypatch.setattr(push_cli, "_check_settings_first", ctrl_c)
    monkeypatch.setattr(campaigns_cli, "open_client", ctrl_c)
    result = run_cli(capsys, *argv)
    lines = [line for line in result.err.splitlines() if line.strip()]
    assert result.code == 130 and len(lines) == 1 and "Traceback" not in result.err
    assert lines[0].startswith("Interrupted.")
    assert (hint in lines[0]) if hint else lines[0] == "Interrupted."
