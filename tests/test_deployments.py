"""prefect.yaml against a real Prefect server: deploy, start a worker, run a deployment, check the warehouse."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from instantly_sandbox import SandboxServer
from tests.prefect_server import prefect_exe, prefect_server
from tests.tasks.push_helpers import CAMPAIGN_WITH_STEPS
from warehouse.db import Warehouse

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
        "pause-campaign",
        "activate-campaign",
    }
    assert deployments["sync-engagement"]["schedules"][0]["interval"] == 3600
    assert deployments["ingest-webhook-events"]["schedules"][0]["interval"] == 60
    # The push's flow-run process gets the CLI's polars setting (ops_instantly/cli/__init__.py).
    assert deployments["push-leads"]["work_pool"]["job_variables"]["env"] == {"POLARS_MAX_THREADS": "1"}
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


def _seed_campaign(sandbox: SandboxServer) -> str:
    from instantly_client import InstantlyClient

    with InstantlyClient(api_key=sandbox.api_key, base_url=sandbox.base_url) as client:
        campaign = client.campaigns.create({"name": "Deployment test", **CAMPAIGN_WITH_STEPS})
        client.leads.add(
            campaign_id=campaign.id, leads=[{"email": f"lead{i}@example.com"} for i in range(40)]
        )
        client.campaigns.activate(campaign.id)
    httpx.post(f"{sandbox.url}/_sandbox/advance", json={"days": 10}).raise_for_status()
    return str(campaign.id)


def _api(method: str, url: str, **kwargs: Any) -> Any:
    """A call to the Prefect server's REST API, retried while it answers 503 (its SQLite busy under load,
    as Prefect's own client retries), then its JSON."""
    for attempt in range(8):
        response = httpx.request(method, url, timeout=30, **kwargs)
        if response.status_code != 503:
            break
        time.sleep(0.5 * 2**attempt)
    response.raise_for_status()
    return response.json()


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
    return _api(
        "POST",
        f"{api}/flow_runs/filter",
        json={"flow_runs": {"deployment_id": {"any_": [deployment_id]}}, "sort": "EXPECTED_START_TIME_ASC"},
    )


def _run_logs(api: str, run_id: str) -> list[dict]:
    """The run's logs, oldest first, once its final "Finished in state" line has arrived (sent in batches)."""
    logs: list[dict] = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        logs = _api(
            "POST",
            f"{api}/logs/filter",
            json={"logs": {"flow_run_id": {"any_": [run_id]}}, "sort": "TIMESTAMP_ASC"},
        )
        if any("Finished in state" in log["message"] for log in logs):
            break
        time.sleep(1)
    return logs


@dataclass
class Deployed:
    """prefect.yaml deployed on a real server, with the sandbox as the workspace."""

    sandbox: SandboxServer
    campaign_id: str
    warehouse: Path
    env: dict[str, str]
    tmp: Path

    @property
    def api(self) -> str:
        return self.env["PREFECT_API_URL"]

    def worker_once(self, *args: str) -> subprocess.CompletedProcess[str]:
        """One poll of the pool: the worker takes what is due (limit 1) and waits for it to finish."""
        return subprocess.run(
            [
                prefect_exe(),
                "worker",
                "start",
                "--pool",
                "ops-instantly",
                "--run-once",
                "--limit",
                "1",
                *args,
            ],
            env=self.env,
            cwd=self.tmp,
            capture_output=True,
            text=True,
            timeout=300,
        )


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployed]:
    tmp = tmp_path_factory.mktemp("deployed")
    with SandboxServer(port=0, seed=7) as sandbox:
        campaign_id = _seed_campaign(sandbox)
        warehouse = tmp / "deployed.duckdb"
        prefect_file = _prefect_yaml_with_a_short_sync_schedule(tmp)
        with prefect_server(tmp / "prefect-home") as server_env:
            # As a user's worker runs: INFO logs on (the test session turns them down to WARNING).
            env = {**server_env, "OPS_WAREHOUSE": str(warehouse), "PREFECT_LOGGING_LEVEL": "INFO"}
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
                [prefect, "--no-prompt", "deploy", "--all", "--prefect-file", str(prefect_file)],
                env,
                timeout=300,
            )
            assert "sync-engagement/sync-engagement" in deployed.stdout
            yield Deployed(sandbox, campaign_id, warehouse, env, tmp)


@pytest.mark.slow
def test_the_servers_scheduler_creates_sync_runs_and_a_worker_completes_one(deployed: Deployed) -> None:
    api = deployed.api
    deployment = _api("GET", f"{api}/deployments/name/sync-engagement/sync-engagement")

    # No run is created by hand: wait for the server's scheduler (SQLAlchemy 2.1 broke its insert).
    runs: list[dict] = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not runs:
        runs = _scheduled_runs(api, deployment["id"])
        time.sleep(1)
    assert runs, (deployed.tmp / "prefect-home" / "server.log").read_text()[-4000:]
    assert all(run["auto_scheduled"] and run["state"]["type"] == "SCHEDULED" for run in runs)

    worker = deployed.worker_once()  # takes the run that is due (at most 10 s away)
    finished = [r for r in _scheduled_runs(api, deployment["id"]) if r["state"]["type"] != "SCHEDULED"]
    assert [r["state"]["type"] for r in finished] == ["COMPLETED"], (
        worker.stdout[-4000:] + worker.stderr[-4000:]
    )
    run = finished[0]
    assert run["auto_scheduled"] is True
    assert deployed.sandbox.api_key not in str(run["parameters"])

    with Warehouse(deployed.warehouse).connect(read_only=True) as con:
        assert con.execute("SELECT id FROM instantly.campaigns").fetchall() == [(deployed.campaign_id,)]
        assert con.execute("SELECT count(*) FROM instantly.leads").fetchone() == (40,)
        assert con.execute("SELECT status FROM ops.sync_runs WHERE run_id = ?", [run["id"]]).fetchone() == (
            "completed",
        )


@pytest.mark.slow
def test_a_deployment_run_whose_source_vanished_fails_in_one_log_line_and_writes_nothing(
    deployed: Deployed,
) -> None:
    from warehouse.connections import Connection, save_connection

    api = deployed.api
    source = deployed.tmp / "vanishing.csv"
    with Warehouse(deployed.warehouse).transaction() as con:
        save_connection(
            con,
            Connection(
                table_name="vanishing",
                campaign_id=deployed.campaign_id,
                campaign_name="Deployment test",
                source=str(source),
            ),
        )
        ledger_before = con.execute("SELECT count(*) FROM ops.push_ledger").fetchone()
    leads_before = len(
        deployed.sandbox.admin("GET", "leads", params={"campaign_id": deployed.campaign_id})["items"]
    )
    assert not source.exists()  # connected, then the file went away

    # On a queue of its own, so the one poll below cannot pick up the sync's 10-second schedule instead.
    _run([prefect_exe(), "work-queue", "create", "bad-input", "--pool", "ops-instantly"], deployed.env)
    deployment = _api("GET", f"{api}/deployments/name/push-leads/push-leads")
    created = _api(
        "POST", f"{api}/deployments/{deployment['id']}/create_flow_run", json={"work_queue_name": "bad-input"}
    )
    run_id = created["id"]
    worker = deployed.worker_once("--work-queue", "bad-input")

    run = _api("GET", f"{api}/flow_runs/{run_id}")
    assert run["state"]["type"] == "FAILED", worker.stdout[-4000:] + worker.stderr[-4000:]
    assert "vanishing.csv" in run["state"]["message"] and "\n" not in run["state"]["message"]
    # The launched run's logs: its one error line is readable, and no traceback comes with it.
    logs = _run_logs(api, run_id)
    errors = [log["message"] for log in logs if log["level"] >= 40]
    assert len(errors) == 1, [(log["level"], log["message"][:300]) for log in logs]
    assert errors[0].startswith("Failed: The source of the connected table vanishing is gone: No such file")
    assert "vanishing.csv" in errors[0] and "ops-instantly connect-table --table vanishing" in errors[0]
    assert "\n" not in errors[0]
    everything = _api("POST", f"{api}/logs/filter", json={"limit": 200})
    assert not [log["message"] for log in everything if "Traceback" in log["message"]]

    with Warehouse(deployed.warehouse).connect(read_only=True) as con:
        assert con.execute("SELECT count(*) FROM ops.push_ledger").fetchone() == ledger_before
    leads_after = deployed.sandbox.admin("GET", "leads", params={"campaign_id": deployed.campaign_id})[
        "items"
    ]
    assert len(leads_after) == leads_before


@pytest.mark.slow
def test_a_campaign_is_paused_and_activated_from_its_deployments_as_the_ui_launches_them(
    deployed: Deployed,
) -> None:
    from instantly_client import InstantlyClient

    api, sandbox = deployed.api, deployed.sandbox
    with InstantlyClient(api_key=sandbox.api_key, base_url=sandbox.base_url) as client:
        campaign_id = client.campaigns.create({"name": "Launch test", **CAMPAIGN_WITH_STEPS}).id
        client.campaigns.activate(campaign_id)  # straight through the API: no pre-launch check

    def status() -> int:
        with InstantlyClient(api_key=sandbox.api_key, base_url=sandbox.base_url) as client:
            return int(client.campaigns.get(campaign_id).status)

    def launch(name: str, parameters: dict[str, Any]) -> tuple[dict, subprocess.CompletedProcess[str]]:
        # What the UI's Custom run does: a run of the deployment with the form's parameters, on a queue of
        # its own so the one poll below cannot pick up the sync's 10-second schedule instead.
        deployment = _api("GET", f"{api}/deployments/name/{name}/{name}")
        assert "campaign" in deployment["parameter_openapi_schema"]["required"]
        created = _api(
            "POST",
            f"{api}/deployments/{deployment['id']}/create_flow_run",
            json={"work_queue_name": "campaign-actions", "parameters": parameters},
        )
        worker = deployed.worker_once("--work-queue", "campaign-actions")
        return _api("GET", f"{api}/flow_runs/{created['id']}"), worker

    _run([prefect_exe(), "work-queue", "create", "campaign-actions", "--pool", "ops-instantly"], deployed.env)
    assert status() == 1  # active (SPEC Campaign.status: 1 Active, 2 Paused)

    run, worker = launch("pause-campaign", {"campaign": "Launch test"})
    assert run["state"]["type"] == "COMPLETED", worker.stdout[-4000:] + worker.stderr[-4000:]
    assert status() == 2
    assert sandbox.api_key not in str(run["parameters"])

    # The campaign has no sending account: the pre-launch check blocks, the run fails in one line
    # and the campaign stays paused; `force` (a checkbox in the form) launches it anyway.
    run, worker = launch("activate-campaign", {"campaign": "Launch test"})
    assert run["state"]["type"] == "FAILED", worker.stdout[-4000:] + worker.stderr[-4000:]
    message = run["state"]["message"]
    assert "\n" not in message and "no sending account is attached" in message, message
    assert "activate with the `force` parameter" in message, message
    assert status() == 2
    artifacts = _api(
        "POST", f"{api}/artifacts/filter", json={"artifacts": {"flow_run_id": {"any_": [run["id"]]}}}
    )
    assert "prelaunch-check" in [
        a["key"] for a in artifacts
    ]  # the check's report, in the run's Artifacts tab

    run, worker = launch("activate-campaign", {"campaign": "Launch test", "force": True})
    assert run["state"]["type"] == "COMPLETED", worker.stdout[-4000:] + worker.stderr[-4000:]
    assert status() == 1
