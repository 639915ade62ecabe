"""A push, a sync and a report against one warehouse at the same time, in separate processes: all complete.

Each is the `ops-instantly` command a user or a worker would run, pointed at one real Prefect server and the
sandbox (with some latency, so the runs' short write sections interleave). Before the warehouse lock, the
second writer waited 30 s for DuckDB's file lock and failed with "locked by another process".
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from tests.prefect_server import prefect_server
from tests.tasks.push_helpers import CAMPAIGN_WITH_STEPS

REPO = Path(__file__).resolve().parents[2]
PUSHED = 1200
SYNCED = 300


def _campaign(client, name: str) -> str:
    return str(client.campaigns.create({"name": name, **CAMPAIGN_WITH_STEPS}).id)


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-c", "from ops_instantly.cli import main; main()", *args]


def _finish(proc: subprocess.Popen[str], timeout: float = 600) -> str:
    out, _ = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, f"{' '.join(proc.args[3:])} failed:\n{out[-3000:]}"  # type: ignore[index]
    return out


@pytest.mark.slow
def test_a_push_a_sync_and_a_report_on_one_warehouse_at_once_all_complete(sandbox, tmp_path: Path) -> None:
    from instantly_client import InstantlyClient

    with InstantlyClient(api_key=sandbox.api_key, base_url=sandbox.base_url) as client:
        synced_id = _campaign(client, "Synced campaign")
        for start in range(0, SYNCED, 100):
            client.leads.add(
                campaign_id=synced_id,
                leads=[{"email": f"synced{i}@example.com"} for i in range(start, start + 100)],
            )
        client.campaigns.activate(synced_id)
        pushed_id = _campaign(client, "Pushed campaign")
    sandbox.admin("POST", "advance", json={"days": 5})
    source = tmp_path / "push.csv"
    source.write_text("email,first_name\n" + "".join(f"push{i}@example.com,P{i}\n" for i in range(PUSHED)))
    warehouse = tmp_path / "shared.duckdb"
    report = tmp_path / "report.html"

    with prefect_server(tmp_path / "prefect-home") as server_env:
        env = {
            **server_env,
            "INSTANTLY_API_KEY": sandbox.api_key,
            "INSTANTLY_BASE_URL": sandbox.base_url,
            "OPS_WAREHOUSE": str(warehouse),
        }

        def start(*args: str) -> subprocess.Popen[str]:
            return subprocess.Popen(
                _cli(*args),
                cwd=tmp_path,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )

        _finish(start("sync"))  # a warehouse for the report to read
        # Every request now takes 30-60 ms: the push's ledger writes and the sync's load interleave.
        sandbox.admin("POST", "faults", json={"latency_ms": 30, "latency_jitter_ms": 30})
        runs = [
            start("push", "--source", str(source), "--campaign", pushed_id, "--batch-size", "100"),
            start("sync"),
            start("report", "--out", str(report)),
        ]
        outputs = [_finish(proc) for proc in runs]

    assert not any("locked" in out for out in outputs), outputs
    assert "Synced campaign" in report.read_text()
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        assert con.execute(
            "SELECT count(DISTINCT row_key), count(lead_id) FROM ops.push_ledger WHERE campaign_id = ?",
            [pushed_id],
        ).fetchone() == (PUSHED, PUSHED)
        runs = con.execute("SELECT flow, status FROM ops.sync_runs ORDER BY started_at").fetchall()
        assert [status for _, status in runs] == ["completed"] * 3, runs
        assert sorted(flow for flow, _ in runs) == ["push-leads", "sync-engagement", "sync-engagement"]
        assert con.execute(
            "SELECT count(*) FROM instantly.leads WHERE campaign_id = ?", [synced_id]
        ).fetchone() == (SYNCED,)
    finally:
        con.close()
    sandbox_leads = sandbox.admin("GET", "leads", params={"campaign_id": pushed_id})["items"]
    assert len(sandbox_leads) == PUSHED  # each lead once
