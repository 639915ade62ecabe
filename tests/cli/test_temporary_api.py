"""Prefect's temporary API: a missing block fails without starting it, a Ctrl-C does not reach it, and it dies
with the CLI, on Ctrl-C or kill -9."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from blocks import InstantlyCredentials
from ops_instantly._paths import REPO_ROOT
from tests.cli._cli_helpers import assert_one_line_error, run_cli
from tests.tasks.push_helpers import make_campaign, request_count, set_faults


def _no_prefect_api(monkeypatch: pytest.MonkeyPatch) -> None:
    """A tripwire: any Prefect API client (which would start the temporary API) fails the test."""
    import prefect.client.orchestration

    def tripwire(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the Prefect API was asked")

    monkeypatch.setattr(prefect.client.orchestration, "get_client", tripwire)


def test_a_misspelt_block_fails_without_starting_the_temporary_api(
    sandbox: Any, no_default_block: None, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    monkeypatch.delenv("INSTANTLY_API_KEY", raising=False)
    monkeypatch.delenv("OPS_CREDENTIALS_BLOCK", raising=False)
    InstantlyCredentials(api_key=sandbox.api_key, base_url=sandbox.base_url).save("prod-key", overwrite=True)
    # No PREFECT_API_URL: the temporary API's database (here the test harness's SQLite file) is read directly.
    with temporary_settings(restore_defaults={PREFECT_API_URL}):
        _no_prefect_api(monkeypatch)
        for argv in (["sync", "--credentials", "prod-kye"], ["campaigns", "list", "-c", "prod-kye"]):
            result = run_cli(capsys, *argv)
            assert_one_line_error(
                result, "No InstantlyCredentials block named 'prod-kye'", "did you mean 'prod-key'"
            )
        result = run_cli(capsys, "sync")  # no key, no block named default
        assert_one_line_error(
            result, "INSTANTLY_API_KEY is not set and no InstantlyCredentials block named 'default'"
        )


def test_an_unsaved_source_block_fails_without_starting_the_temporary_api(
    prefect_harness: None, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from blocks import PostgresSource

    monkeypatch.setenv("INSTANTLY_API_KEY", "k")
    monkeypatch.setenv("INSTANTLY_BASE_URL", "http://127.0.0.1:1/api/v2")  # the campaign is never looked up
    monkeypatch.setenv("OPS_WAREHOUSE", str(tmp_path / "w.duckdb"))
    PostgresSource(url="postgresql://u:p@127.0.0.1:1/crm").save("crm-prod", overwrite=True)
    # No PREFECT_API_URL: the temporary API's database (the harness's SQLite file) is read directly. Asked,
    # the tripwire makes the error "No reachable Prefect API ...".
    with temporary_settings(restore_defaults={PREFECT_API_URL}):
        _no_prefect_api(monkeypatch)
        for argv in (
            ["push", "--source-block", "crm-prdo", "--table", "leads", "--campaign", "c"],
            ["push", "--source-block", "crm-prdo", "--table", "leads", "--campaign", "c", "--dry-run"],
            ["sync", "--write-back", "--source-block", "crm-prdo"],
        ):
            result = run_cli(capsys, *argv)
            assert_one_line_error(
                result, "No PostgresSource block named 'crm-prdo'", "did you mean 'crm-prod'"
            )
        result = run_cli(capsys, "push", "--source-block", "crm-prod", "--campaign", "c")
        assert_one_line_error(result, "Reading postgresql:// needs --table or --query")


@pytest.mark.parametrize(
    ("source", "extra", "fragment"),
    [
        ("leads.json", [], "Cannot tell what kind of source"),
        ("duckdb:///DIR/crm.duckdb", [], "--table is needed to read from duckdb:///"),
        ("leads.csv", ["--sheet", "Q3"], "--sheet is for Excel sources"),
        # Was: the query was ignored, and the whole file pushed.
        ("leads.csv", ["--query", "SELECT * FROM leads WHERE hot"], "--query is for Postgres sources"),
    ],
)
def test_a_source_that_cannot_be_read_as_given_fails_before_prefect_is_asked(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    source: str,
    extra: list[str],
    fragment: str,
) -> None:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    for name in ("leads.json", "leads.csv"):
        (tmp_path / name).write_text("email\na@x.co\n")
    monkeypatch.setenv("INSTANTLY_API_KEY", "k")
    monkeypatch.setenv("INSTANTLY_BASE_URL", "http://127.0.0.1:1/api/v2")  # never reached either
    monkeypatch.setenv("OPS_WAREHOUSE", str(tmp_path / "w.duckdb"))
    source = source.replace("DIR", str(tmp_path)) if "://" in source else str(tmp_path / source)
    # A Prefect API that is not there: asked first, the error would be "No reachable Prefect API".
    with temporary_settings(updates={PREFECT_API_URL: "http://127.0.0.1:1/api"}):
        result = run_cli(capsys, "push", "--source", source, "--campaign", "c", *extra)
    assert_one_line_error(result, fragment)


def _server_children(pid: int) -> list[int]:
    """Pids of the temporary Prefect API servers `pid` started (its uvicorn children)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == pid and b"prefect.server.api.server:create_app" in cmdline:
            found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@contextmanager
def _pushing_cli(
    sandbox: Any, tmp_path: Path, warehouse_path: Path, name: str
) -> Iterator[tuple[subprocess.Popen[str], list[int]]]:
    """`ops-instantly push` of 3,000 rows at 2 requests a second in a new process (its own process group, as
    a terminal's foreground job) with Prefect's temporary API; yields it and that API's pids once its first
    request reached the sandbox. Everything is killed and the sandbox's latency reset after."""
    campaign = make_campaign(sandbox, name)
    csv = tmp_path / "leads.csv"
    csv.write_text("email\n" + "".join(f"{name.lower()}{i}@ex.com\n" for i in range(3000)))
    set_faults(sandbox, latency_ms=200)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "OPS_CREDENTIALS"))}
    env.update(
        INSTANTLY_API_KEY=sandbox.api_key,
        INSTANTLY_BASE_URL=sandbox.base_url,
        INSTANTLY_RATE_PER_SECOND="2",
        OPS_WAREHOUSE=str(warehouse_path),
        PREFECT_HOME=str(tmp_path / "prefect-home"),  # no PREFECT_API_URL: the temporary API
        PYTHONPATH=str(REPO_ROOT),
    )
    argv = ["push", "--source", str(csv), "--campaign", campaign, "--batch-size", "50"]
    cli = subprocess.Popen(
        [sys.executable, "-c", "from ops_instantly.cli import main; main()", *argv],
        cwd=tmp_path, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        text=True, start_new_session=True,
    )  # fmt: skip
    servers: list[int] = []
    try:
        deadline = time.monotonic() + 180
        while request_count(sandbox) == 0 and cli.poll() is None and time.monotonic() < deadline:
            servers = _server_children(cli.pid) or servers
            time.sleep(0.2)
        servers = _server_children(cli.pid) or servers
        assert cli.poll() is None and request_count(sandbox) > 0, (
            cli.stderr.read()[-2000:] if cli.stderr else ""
        )
        assert servers, "the push started no temporary Prefect API"
        yield cli, servers
    finally:
        for pid in servers:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        if cli.poll() is None:
            cli.kill()
        set_faults(sandbox, latency_ms=0)


def _gone_within(pids: list[int], seconds: float) -> list[int]:
    """The processes of `pids` still alive after up to `seconds`."""
    deadline = time.monotonic() + seconds
    while any(_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.2)
    return [p for p in pids if _alive(p)]


@pytest.mark.slow  # the temporary API starts (10-30 s)
@pytest.mark.skipif(not hasattr(os, "pidfd_open"), reason="the watchdog needs Linux pidfds")
def test_kill_9_of_a_push_leaves_no_temporary_prefect_server_behind(
    sandbox: Any, tmp_path: Path, warehouse_path: Path
) -> None:
    with _pushing_cli(sandbox, tmp_path, warehouse_path, "Killed") as (cli, servers):
        cli.send_signal(signal.SIGKILL)
        cli.wait(timeout=30)
        left = _gone_within(servers, 30)  # the watchdog sends SIGTERM, then SIGKILL after 5 s
        assert not left, f"temporary Prefect API server(s) {left} outlived the killed CLI"


@pytest.mark.slow  # the temporary API starts (10-30 s)
def test_ctrl_c_of_a_push_reaches_the_cli_only_and_says_interrupted(
    sandbox: Any, tmp_path: Path, warehouse_path: Path
) -> None:
    # A terminal's Ctrl-C sends SIGINT to the whole process group. It used to kill the temporary API too:
    # the flow then reported its end to a dead API for 1-3 minutes and printed "Connection refused".
    with _pushing_cli(sandbox, tmp_path, warehouse_path, "Interrupted") as (cli, servers):
        os.killpg(cli.pid, signal.SIGINT)  # once, to the group, as Ctrl-C in a terminal
        time.sleep(0.5)
        assert all(_alive(p) for p in servers), "the Ctrl-C killed the temporary Prefect API under the run"
        try:
            _, stderr = cli.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            pytest.fail("the interrupted push did not end within 60 s")
        lines = [line for line in stderr.splitlines() if line.strip()]
        assert cli.returncode == 130, stderr[-2000:]
        assert lines and lines[-1].startswith("Interrupted. Run the same push again"), stderr[-2000:]
        assert "Traceback" not in stderr and "Error logging to API" not in stderr, stderr[-2000:]
        assert not _gone_within(servers, 30), "the temporary Prefect API outlived the CLI"
