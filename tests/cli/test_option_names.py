"""ops_core.interface's option names hold against the real commands and flows, and the CLI's mark ends
with its command (tests/cli and tests/flows share one process)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from pathlib import Path

import pytest

from ops_core.interface import CLI_FLAGS, NO_CLI_FLAG, in_cli
from ops_instantly._paths import REPO_ROOT
from ops_instantly.cli import app
from tests.cli._cli_helpers import assert_one_line_error, run_cli

# (command, option) -> (flow, parameter it sets), read from each command's call of its flow.
SETS = {
    ("push", "--source"): ("flows.push_leads:push_leads", "source"),
    ("push", "--source-block"): ("flows.push_leads:push_leads", "postgres_source"),
    ("push", "--table"): ("flows.push_leads:push_leads", "table"),
    ("push", "--query"): ("flows.push_leads:push_leads", "query"),
    ("push", "--sheet"): ("flows.push_leads:push_leads", "sheet"),
    ("push", "--campaign"): ("flows.push_leads:push_leads", "campaigns"),
    ("push", "--key"): ("flows.push_leads:push_leads", "key_column"),
    ("push", "--mapping"): ("flows.push_leads:push_leads", "mapping_file"),
    ("push", "--skip-if"): ("flows.push_leads:push_leads", "skip_if"),
    ("push", "--dry-run"): ("flows.push_leads:push_leads", "dry_run"),
    ("push", "--batch-size"): ("flows.push_leads:push_leads", "batch_size"),
    ("push", "--timeout"): ("flows.push_leads:push_leads", "timeout_seconds"),
    ("push", "--wait"): ("flows.push_leads:push_leads", "wait_seconds"),
    ("push", "--warehouse"): ("flows.push_leads:push_leads", "warehouse"),
    ("push", "--credentials"): ("flows.push_leads:push_leads", "credentials"),
    ("sync", "--campaign"): ("flows.sync_engagement:sync_engagement", "campaigns"),
    ("sync", "--lookback-days"): ("flows.sync_engagement:sync_engagement", "lookback_days"),
    ("sync", "--since"): ("flows.sync_engagement:sync_engagement", "since"),
    ("sync", "--source-block"): ("flows.sync_engagement:sync_engagement", "write_back_to"),
    ("sync", "--write-back-table"): ("flows.sync_engagement:sync_engagement", "write_back_tables"),
    ("sync", "--warehouse"): ("flows.sync_engagement:sync_engagement", "warehouse"),
    ("report", "--campaign"): ("flows.build_report:build_report", "campaigns"),
    ("report", "--out"): ("flows.build_report:build_report", "out"),
    ("report", "--by"): ("flows.build_report:build_report", "by"),
    ("webhooks ingest", "--spool"): ("flows.ingest_webhook_events:ingest_webhook_events", "spool_dir"),
    ("webhooks ingest", "--catch-up"): ("flows.ingest_webhook_events:ingest_webhook_events", "catch_up"),
    ("webhooks replay", "--since"): ("flows.ingest_webhook_events:ingest_webhook_events", "catch_up_since"),
    ("campaigns activate", "--force"): ("flows.manage_campaigns:activate_campaign", "force"),
    ("campaigns duplicate", "--name"): ("flows.manage_campaigns:duplicate_campaign", "name"),
}


def _options(path: str) -> set[str]:
    import typer.main

    command = typer.main.get_command(app)
    for word in path.split():
        command = command.commands[word]  # type: ignore[attr-defined]
    return {opt for param in command.params for opt in param.opts}


def _flows() -> list[object]:
    from prefect import Flow

    found = []
    for module in pkgutil.iter_modules([str(Path(REPO_ROOT) / "flows")]):
        loaded = importlib.import_module(f"flows.{module.name}")
        found += [
            v for v in vars(loaded).values() if isinstance(v, Flow) and v.fn.__module__ == loaded.__name__
        ]
    return found


def test_each_mapped_option_is_a_real_option_that_sets_that_parameter() -> None:
    assert {parameter for _, parameter in SETS.values()} == set(CLI_FLAGS)
    for (command, cli_flag), (target, parameter) in SETS.items():
        assert cli_flag in _options(command), (command, cli_flag)
        module, attr = target.split(":")
        flow = getattr(importlib.import_module(module), attr)
        assert parameter in inspect.signature(flow.fn).parameters, (target, parameter)
        assert CLI_FLAGS[parameter] == cli_flag, (command, parameter)


def test_every_flow_parameter_has_an_option_or_is_known_to_have_none() -> None:
    flows = _flows()
    assert len(flows) >= 10  # push, sync, report, webhooks, manage-campaigns and its six actions
    unnamed = {
        (flow.name, name)  # type: ignore[attr-defined]
        for flow in flows
        for name in inspect.signature(flow.fn).parameters  # type: ignore[attr-defined]
        if name not in CLI_FLAGS and name not in NO_CLI_FLAG
    }
    assert unnamed == set()
    assert not set(CLI_FLAGS) & NO_CLI_FLAG


def test_a_command_names_its_options_and_leaves_the_process_naming_parameters(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    monkeypatch.setenv("INSTANTLY_API_KEY", "k")
    monkeypatch.setenv("INSTANTLY_BASE_URL", "http://127.0.0.1:1/api/v2")  # never reached
    monkeypatch.setenv("OPS_WAREHOUSE", str(tmp_path / "w.duckdb"))
    # The source is refused before Prefect is asked (flows.push_leads.check_source, shared with the flow).
    with temporary_settings(updates={PREFECT_API_URL: "http://127.0.0.1:1/api"}):
        result = run_cli(capsys, "push", "--source", f"duckdb:///{tmp_path}/crm.duckdb", "--campaign", "c")
    assert_one_line_error(result, "error: --table is needed to read from duckdb:///", "(add --table NAME)")
    assert not in_cli()  # the flow tests that follow in this process are no CLI
