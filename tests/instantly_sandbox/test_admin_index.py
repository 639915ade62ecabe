"""GET /_sandbox/, the admin URL `ops sandbox` prints, lists the admin endpoints."""

from __future__ import annotations

import httpx

from instantly_sandbox import SandboxServer


def test_the_printed_admin_url_lists_the_admin_endpoints(sandbox: SandboxServer) -> None:
    resp = httpx.get(f"{sandbox.url}/_sandbox/", timeout=30)  # the URL serve() prints
    assert resp.status_code == 200
    endpoints = resp.json()["endpoints"]
    assert any(line.startswith("POST /_sandbox/advance") for line in endpoints)
    assert any(line.startswith("GET  /_sandbox/state") for line in endpoints)
