"""A small run of bench/bench_shared_budget.py: a push alone and two under one Prefect global limit land every
lead, and the counts come from the sandbox (no timing)."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from bench.bench_shared_budget import scenario
from tests.prefect_server import prefect_server


@pytest.mark.slow
def test_shared_budget_benchmark_lands_every_lead_alone_and_shared(tmp_path: Path) -> None:
    args = argparse.Namespace(budget=20, requests=6, leads_per_add=10, latency_ms=0, limit=4, decay=0)
    with prefect_server(tmp_path / "prefect") as env:
        alone = scenario(env, tmp_path, args, 1, shared=False, tag="alone")
        shared = scenario(env, tmp_path, args, 2, shared=True, tag="shared2")
    assert alone["global_limit"] == "none" and alone["leads_landed"] == alone["leads_expected"] == 60
    assert shared["global_limit"] == "--limit 4 --slot-decay-per-second 18"
    assert shared["leads_landed"] == shared["leads_expected"] == 120
    assert shared["requests"] >= 2 * 6 and shared["seconds"] > 0 and shared["rate_limited"] == 0
