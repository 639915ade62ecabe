"""A small run of bench/bench_ducklake.py: push, re-push and sync on both backends are right (no timing)."""

from __future__ import annotations

import pytest

from tests.services import postgres_available, require_service
from tests.warehouse_backends import ADMIN_URL


@pytest.mark.slow  # about 35 s: two warehouses, three flows each (./ops test --all and CI run it)
@pytest.mark.usefixtures("prefect_harness")
def test_the_ducklake_benchmark_pushes_and_syncs_every_lead_on_both_backends(monkeypatch):
    require_service("Postgres at 127.0.0.1:5432", postgres_available(ADMIN_URL))
    from bench.bench_ducklake import run

    for name in (
        "INSTANTLY_RATE_PER_SECOND",
        "INSTANTLY_API_KEY",
        "INSTANTLY_BASE_URL",
        "OPS_WAREHOUSE_DATA_PATH",
    ):
        monkeypatch.delenv(name, raising=False)  # run() sets them; monkeypatch restores them afterwards
    results = run(300, ["file", "ducklake"], budget=100)
    steps = [(r["backend"], r["step"]) for r in results]
    assert steps == [
        (backend, step)
        for backend in ("file", "ducklake")
        for step in ("push", "push again (no change)", "sync")
    ]
    for r in results:
        if r["step"] == "push":
            assert r["outcomes"] == {"created": 300}
        elif r["step"] == "push again (no change)":
            assert r["outcomes"] == {"unchanged": 300}
        else:
            assert r["leads_inserted"] == 300
