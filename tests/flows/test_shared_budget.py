"""One budget across processes: two pushes at once, under one Prefect global concurrency limit.

A real `prefect server start`, a sandbox that enforces the workspace budget (20/s, 1,200/min, sliding
windows), and two `ops-instantly push` processes on one workspace at the same time. Each process's block
allows it the whole budget (20/s), so only the shared limit keeps the two together within it. The sandbox
counts every request that arrives (allowed or refused): the busiest second stays within the budget, 429s
stay at or under 1%, and every lead lands exactly once.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from instantly_sandbox import SandboxServer
from tests.prefect_server import prefect_server

REPO = Path(__file__).resolve().parents[2]
BUDGET = 20  # requests per second, the sandbox's limit and each block's own rate
LEADS = 2000  # per process
BATCH = 20  # leads per bulk add: 100 requests per process

SETUP = """
import sys
from pydantic import SecretStr
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
from blocks import InstantlyCredentials

base_url, api_key, budget = sys.argv[1], sys.argv[2], float(sys.argv[3])
with get_client(sync_client=True) as prefect:
    prefect.create_global_concurrency_limit(
        GlobalConcurrencyLimitCreate(name="instantly-shared", limit=4, slot_decay_per_second=budget * 0.95)
    )
InstantlyCredentials(
    api_key=SecretStr(api_key), base_url=base_url, rate_per_second=budget, rate_per_minute=budget * 60,
    global_rate_limit="instantly-shared",
).save("shared-budget", overwrite=True)
"""


def _campaign(sandbox: SandboxServer) -> str:
    schedule = {
        "schedules": [
            {
                "name": "Always",
                "timing": {"from": "00:00", "to": "23:59"},
                "days": {str(d): True for d in range(7)},
                "timezone": "America/Detroit",
            }
        ]
    }
    response = httpx.post(
        f"{sandbox.base_url}/campaigns",
        json={"name": "Shared budget", "campaign_schedule": schedule},
        headers={"Authorization": f"Bearer {sandbox.api_key}"},
    )
    response.raise_for_status()
    return str(response.json()["id"])


@pytest.mark.slow
def test_two_pushes_share_one_global_limit_within_the_budget(tmp_path: Path) -> None:
    ops = str(REPO / ".venv" / "bin" / "ops-instantly")
    with (
        prefect_server(tmp_path / "prefect") as env,
        SandboxServer(rate_per_second=BUDGET, rate_per_minute=BUDGET * 60, latency_ms=50) as sandbox,
    ):
        campaign = _campaign(sandbox)
        setup = subprocess.run(
            [sys.executable, "-c", SETUP, sandbox.base_url, sandbox.api_key, str(BUDGET)],
            env=env, cwd=REPO, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert setup.returncode == 0, setup.stderr[-2000:]
        pushes = []
        for name in ("a", "b"):
            csv = tmp_path / f"{name}.csv"
            csv.write_text(
                "email,first_name\n" + "".join(f"{name}{i}@shared.dev,N{i}\n" for i in range(LEADS))
            )
            command = [
                ops,
                "push",
                "--source",
                str(csv),
                "--campaign",
                campaign,
                "--credentials",
                "shared-budget",
            ]
            command += ["--warehouse", str(tmp_path / f"{name}.duckdb"), "--batch-size", str(BATCH)]
            pushes.append(subprocess.Popen(command, env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))  # fmt: skip
        outputs = [p.communicate(timeout=600) for p in pushes]
        stats = sandbox.stats
        leads = sandbox.admin("GET", "leads", params={"campaign_id": campaign})

    for push, (out, err) in zip(pushes, outputs, strict=True):
        assert push.returncode == 0, (out[-2000:], err[-2000:])
    adds = stats["per_path"].get("POST /api/v2/leads/add", 0)
    requests = stats["requests"]
    assert adds >= 2 * LEADS // BATCH
    assert stats.get("rate_limited", 0) <= 0.01 * requests, stats
    assert stats["busiest_second"] <= BUDGET, stats  # every arrival counted, refused ones too
    emails = [lead["email"] for lead in leads["items"]]
    assert len(emails) == 2 * LEADS
    assert sorted(emails) == sorted({f"{n}{i}@shared.dev" for n in "ab" for i in range(LEADS)})
