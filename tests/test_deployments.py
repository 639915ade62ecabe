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


def _prefect_yaml_with_a_short_sync_schedule(tmp_path: Path) -> Path:
    """prefect.yaml as shipped, but the hourly sync fires every 10 s and the other schedules are off.

    Only the interval changes, so the test does not wait an hour; the deployments, entrypoints,
    parameters and work pool are the real ones.
    """
    config = yaml.safe_load((REPO / "prefect.yaml").read_text())
    for deployment in config["deployments"]:
        if deployment["name"] == "sync-engagement":
            deployment["schedules"] = [{"interval": 10, "active": True}]
        else:
            for schedule in deployment.get("schedules") or []:
                schedule["active"] = False
    path = tmp_path / "prefect.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def _scheduled_runs(api: str, deployment_id: str) -> list[dict]:
    response = httpx.post(
        f"{api}/flow_runs/filter",
        json={"flow_runs": {"deployment_id": {"any_": [deployment_id]}}, "sort": "EXPECTED_START_TIME_ASC"},
        timeout=10,
    )
    response.raise_for_status()
    return response.json()


@pytest.mark.slow
def test_the_servers_scheduler_creates_sync_runs_and_a_worker_completes_one(sandbox, tmp_path: Path) -> None:
    campaign_id = _seed_campaign(sandbox)
    warehouse = tmp_path / "deployed.duckdb"
    prefect_file = _prefect_yaml_with_a_short_sync_schedule(tmp_path)
    with prefect_server(tmp_path / "prefect-home") as env:
        env = {**env, "OPS_WAREHOUSE": str(warehouse)}
        api = env["PREFECT_API_URL"]
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
        deployed = _run(
            [prefect, "--no-prompt", "deploy", "--all", "--prefect-file", str(prefect_file)], env, timeout=300
        )
        assert "sync-engagement/sync-engagement" in deployed.stdout
        deployment = httpx.get(f"{api}/deployments/name/sync-engagement/sync-engagement", timeout=10).json()

        # No run is created by hand: wait for the server's scheduler (SQLAlchemy 2.1 broke its insert).
        runs: list[dict] = []
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not runs:
            runs = _scheduled_runs(api, deployment["id"])
            time.sleep(1)
        assert runs, (tmp_path / "prefect-home" / "server.log").read_text()[-4000:]
        assert all(run["auto_scheduled"] and run["state"]["type"] == "SCHEDULED" for run in runs)

        # One poll of the pool: the worker takes the run that is due (at most 10 s away) and waits for it.
        worker = subprocess.run(
            [prefect, "worker", "start", "--pool", "ops-instantly", "--run-once", "--limit", "1"],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=300,
        )
        finished = [r for r in _scheduled_runs(api, deployment["id"]) if r["state"]["type"] != "SCHEDULED"]
        assert [r["state"]["type"] for r in finished] == ["COMPLETED"], (
            worker.stdout[-4000:] + worker.stderr[-4000:]
        )
        run = finished[0]
        assert run["auto_scheduled"] is True
        assert sandbox.api_key not in str(run["parameters"])

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        assert con.execute("SELECT id FROM instantly.campaigns").fetchall() == [(campaign_id,)]
        assert con.execute("SELECT count(*) FROM instantly.leads").fetchone() == (40,)
        assert con.execute("SELECT status FROM ops.sync_runs WHERE run_id = ?", [run["id"]]).fetchone() == (
            "completed",
        )
    finally:
        con.close()
