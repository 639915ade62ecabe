"""GET /_sandbox/, the admin URL `ops sandbox` prints, lists the admin endpoints."""

from __future__ import annotations

import time

import httpx

from instantly_sandbox import SandboxServer
from tests.instantly_sandbox.helpers import make_campaign


def test_the_printed_admin_url_lists_the_admin_endpoints(sandbox: SandboxServer) -> None:
    resp = httpx.get(f"{sandbox.url}/_sandbox/", timeout=30)  # the URL serve() prints
    assert resp.status_code == 200
    endpoints = resp.json()["endpoints"]
    assert any(line.startswith("POST /_sandbox/advance") for line in endpoints)
    assert any(line.startswith("GET  /_sandbox/state") for line in endpoints)


def test_stats_count_afresh_after_a_stats_reset_and_keep_the_workspace(sandbox: SandboxServer) -> None:
    api = httpx.Client(base_url=sandbox.base_url, headers={"Authorization": f"Bearer {sandbox.api_key}"})
    assert api.get("/campaigns").status_code == 200
    time.sleep(0.2)
    assert api.get("/campaigns").status_code == 200
    before = httpx.get(f"{sandbox.url}/_sandbox/stats", timeout=30).json()
    assert before["requests"] >= 2 and before["attempt_span_seconds"] >= 0.2
    make_campaign(api, "kept")
    state = httpx.get(f"{sandbox.url}/_sandbox/state", timeout=30).json()
    assert state["campaigns"] == 1

    assert httpx.post(f"{sandbox.url}/_sandbox/stats/reset", timeout=30).json() == {"status": "reset"}
    after = httpx.get(f"{sandbox.url}/_sandbox/stats", timeout=30).json()
    assert (
        after.get("requests", 0) == 0 and after["busiest_second"] == 0 and after["attempt_span_seconds"] == 0
    )
    kept = httpx.get(f"{sandbox.url}/_sandbox/state", timeout=30).json()
    assert {**kept, "now": None} == {**state, "now": None}  # the clock moves on; the workspace is untouched
