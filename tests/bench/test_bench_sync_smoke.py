"""A small run of bench/bench_sync.py: both modes pull every lead against a budget-enforcing sandbox (no timing)."""

from __future__ import annotations

import argparse

from bench.bench_sync import run_window


def test_sync_benchmark_pulls_every_lead_in_both_modes():
    args = argparse.Namespace(
        leads=600,
        campaigns=2,
        latency_ms=0,
        rate_per_second=50,
        rate_per_minute=3000,
        server_rate_per_second=None,
        server_rate_per_minute=None,
        known_fraction=0.8,
        unknown="spread",
        synced_fraction=0.5,
        leads_per_chain=100,
        emails="scattered",
    )
    results = run_window(args, "fixed", baseline=True)
    assert [r["mode"] for r in results] == ["fan-out (sync)", "one sequential cursor per campaign"]
    assert all(r["leads"] == 600 for r in results)
    assert all(r["server_window"] == "fixed" and r["requests"] > 0 for r in results)
