"""The README's "Scheduling with Prefect" section, executed as written against a real Prefect server.

The commands are read from README.md, so the test and the README cannot drift apart. The local sandbox
stands in for the Instantly workspace (INSTANTLY_BASE_URL points at it and the key is typed on standard
input, as `echo KEY | ./ops login` would), a fresh PREFECT_HOME and `prefect server start` stand in for the
user's server, and OPS_WAREHOUSE keeps the warehouse out of the repo.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path

import duckdb
import httpx
import pytest

from tests.prefect_server import prefect_server

REPO = Path(__file__).resolve().parents[1]
SECTION = "## Scheduling with Prefect"


def readme_blocks() -> list[list[str]]:
    """The section's ```bash blocks, as lists of commands (continuation lines joined, blanks dropped)."""
    text = (REPO / "README.md").read_text()
    assert SECTION in text, f"README.md has no {SECTION!r} section"
    section = text.split(SECTION, 1)[1].split("\n## ", 1)[0]
    blocks = []
    for body in re.findall(r"```bash\n(.*?)```", section, re.S):
        joined = re.sub(r"\\\n\s*", " ", body)
        blocks.append([line.strip() for line in joined.splitlines() if line.strip()])
    return blocks


def test_the_section_starts_a_server_then_sets_up_deploys_and_runs_a_push() -> None:
    server, setup, push_now = readme_blocks()
    assert any("prefect server start" in line for line in server)
    assert any("PREFECT_API_URL=" in line for line in server)
    assert "worker start" in setup[-1]
    assert [line.split("#")[0].split()[:2] for line in push_now] == [[".venv/bin/prefect", "deployment"]]


def _run(command: str, env: dict[str, str], key: str) -> str:
    done = subprocess.run(
        ["bash", "-c", command],
        cwd=REPO,
        env=env,
        input=f"{key}\n",  # the key, for `login`; other commands do not read standard input
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"`{command}` failed:\n{output[-3000:]}"
    assert key not in output
    return output


@pytest.mark.slow
def test_the_readme_scheduling_section_runs_as_written(sandbox, tmp_path: Path) -> None:
    _, setup, push_now = readme_blocks()
    warehouse = tmp_path / "warehouse.duckdb"
    with prefect_server(tmp_path / "prefect-home") as server_env:
        env = {k: v for k, v in server_env.items() if k not in ("INSTANTLY_API_KEY", "OPS_CREDENTIALS_BLOCK")}
        env.update(INSTANTLY_BASE_URL=sandbox.base_url, OPS_WAREHOUSE=str(warehouse))
        api = env["PREFECT_API_URL"]

        for command in setup[:-1]:
            _run(command, env, sandbox.api_key)
        worker_log = (tmp_path / "worker.log").open("w")
        worker = subprocess.Popen(
            ["bash", "-c", setup[-1]],
            cwd=REPO,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=worker_log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            started = "".join(_run(command, env, sandbox.api_key) for command in push_now)
            run_id = re.search(r"UUID:\s*([0-9a-f-]{36})", started).group(1)
            state = None
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline:
                response = httpx.get(f"{api}/flow_runs/{run_id}", timeout=30)
                if response.status_code == 503:  # the server's SQLite busy under load: ask again
                    time.sleep(2)
                    continue
                state = response.raise_for_status().json()["state"]["type"]
                if state in {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}:
                    break
                time.sleep(2)
        finally:
            os.killpg(worker.pid, signal.SIGTERM)
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(worker.pid, signal.SIGKILL)
                worker.wait()
            worker_log.close()
        assert state == "COMPLETED", (tmp_path / "worker.log").read_text()[-4000:]

    from instantly_client import InstantlyClient

    with InstantlyClient(api_key=sandbox.api_key, base_url=sandbox.base_url) as client:
        (campaign,) = [c for c in client.campaigns.list() if c.name == "Q3 founders outreach"]
        emails = {lead.email for lead in client.leads.list(campaign=str(campaign.id))}
    source_rows = (REPO / "examples" / "leads.csv").read_text().splitlines()[1:]
    assert emails == {row.split(",")[0] for row in source_rows}
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        assert con.execute(
            "SELECT count(*) FROM ops.push_ledger WHERE campaign_id = ? AND lead_id IS NOT NULL",
            [str(campaign.id)],
        ).fetchone() == (len(source_rows),)
    finally:
        con.close()
