"""prefect.yaml against a real Prefect server: deploy, start a worker, run a deployment, check the warehouse."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import httpx
import pytest
import yaml

from tests.prefect_server import prefect_exe, prefect_server

REPO = Path(__file__).resolve().parents[1]
SECRET_WORDS = re.compile(r"api_key|password|secret|token", re.IGNORECASE)


def test_prefect_yaml_declares_the_deployments_without_secrets() -> None:
    config = yaml.safe_load((REPO / "prefect.yaml").read_text())
    deployments = {d["name"]: d for d in config["deployments"]}
    assert set(deployments) == {
        "push-leads",
        "sync-engagement",
        "backfill-daily-analytics",
        "ingest-webhook-events",
    }
    assert deployments["sync-engagement"]["schedules"][0]["interval"] == 3600
    assert deployments["ingest-webhook-events"]["schedules"][0]["interval"] == 60
    for deployment in deployments.values():
        path, _, func = deployment["entrypoint"].partition(":")
        assert f"def {func}(" in (REPO / path).read_text()
        assert deployment["work_pool"]["name"] == "ops-instantly"
        assert not SECRET_WORDS.search(yaml.safe_dump(deployment.get("parameters", {})))
        assert not SECRET_WORDS.search(yaml.safe_dump(deployment["work_pool"].get("job_variables", {})))


def _run(args: list[str], env: dict[str, str], timeout: float = 240) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(args, env=env, cwd=REPO, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, (
        f"{' '.join(args[:4])} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    )
    return result


def _seed_campaign(sandbox) -> str:
    from instantly_client import InstantlyClient

    with InstantlyClient(api_key=sandbox.api_key, base_url=sandbox.base_url) as client:
        campaign = client.campaigns.create(
            {
                "name": "Deployment test",
                "campaign_schedule": {
                    "schedules": [
                        {
                            "name": "Weekdays",
                            "timing": {"from": "09:00", "to": "17:00"},
                            "days": {str(d): d in (1, 2, 3, 4, 5) for d in range(7)},
                            "timezone": "America/Detroit",
                        }
                    ]
                },
                "sequences": [
                    {
                        "steps": [
                            {"type": "email", "delay": 2, "variants": [{"subject": "Hi", "body": "Hello"}]}
                        ]
                    }
                ],
            }
        )
        client.leads.add(
            campaign_id=campaign.id, leads=[{"email": f"lead{i}@example.com"} for i in range(40)]
        )
        client.campaigns.activate(campaign.id)
    httpx.post(f"{sandbox.url}/_sandbox/advance", json={"days": 10}).raise_for_status()
    return str(campaign.id)


@pytest.mark.slow
def test_a_deployed_sync_runs_on_a_worker_and_writes_the_warehouse(sandbox, tmp_path: Path) -> None:
    campaign_id = _seed_campaign(sandbox)
    warehouse = tmp_path / "deployed.duckdb"
    with prefect_server(tmp_path / "prefect-home") as env:
        env = {**env, "OPS_WAREHOUSE": str(warehouse)}
        prefect = prefect_exe()
        _run([prefect, "work-pool", "create", "ops-instantly", "--type", "process"], env)
        # The key lives in a block on the server, never in a parameter or job variable.
        _run(
            [
                sys.executable,
                "-c",
                "import sys; from pydantic import SecretStr; from blocks import InstantlyCredentials; "
                "InstantlyCredentials(api_key=SecretStr(sys.argv[1]), base_url=sys.argv[2]).save('default')",
                sandbox.api_key,
                sandbox.base_url,
            ],
            env,
        )
        deployed = _run([prefect, "--no-prompt", "deploy", "--all"], env, timeout=300)
        assert "sync-engagement/sync-engagement" in deployed.stdout
        started = _run([prefect, "deployment", "run", "sync-engagement/sync-engagement"], env)
        run_id = re.search(r"UUID:\s*([0-9a-f-]{36})", started.stdout).group(1)

        worker_log = (tmp_path / "worker.log").open("w")
        worker = subprocess.Popen(
            [prefect, "worker", "start", "--pool", "ops-instantly", "--limit", "1"],
            env=env,
            cwd=tmp_path,
            stdout=worker_log,
            stderr=subprocess.STDOUT,
        )
        try:
            state = None
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline:
                run = httpx.get(f"{env['PREFECT_API_URL']}/flow_runs/{run_id}", timeout=10).json()
                state = run["state"]["type"]
                if state in {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}:
                    break
                time.sleep(2)
        finally:
            worker.terminate()
            worker.wait(timeout=30)
            worker_log.close()
        assert state == "COMPLETED", (tmp_path / "worker.log").read_text()[-4000:]

        parameters = httpx.get(f"{env['PREFECT_API_URL']}/flow_runs/{run_id}", timeout=10).json()[
            "parameters"
        ]
        assert sandbox.api_key not in str(parameters)

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        assert con.execute("SELECT id FROM instantly.campaigns").fetchall() == [(campaign_id,)]
        assert con.execute("SELECT count(*) FROM instantly.leads").fetchone() == (40,)
        assert con.execute("SELECT status FROM ops.sync_runs WHERE run_id = ?", [run_id]).fetchone() == (
            "completed",
        )
    finally:
        con.close()
