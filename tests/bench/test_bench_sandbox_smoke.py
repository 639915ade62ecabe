"""A small run of bench/bench_sandbox.py: the benchmark works and counts what the sandbox stored (no timing)."""

from __future__ import annotations

import httpx

from bench._common import sandbox_process
from bench.bench_sandbox import LEADS_PER_ADD, preload, run


def test_sandbox_benchmark_sends_fresh_valid_leads_and_reports_sandbox_cpu():
    with sandbox_process(1000, server_rate_per_minute=60_000) as sandbox:
        result = run(sandbox.base_url, sandbox.pid, requests=2, workers=2, tag="smoke")
    assert result["leads"] == 2 * LEADS_PER_ADD  # run() itself fails unless every lead was uploaded
    assert result["sandbox_cpu_seconds"] > 0


def test_sandbox_benchmark_can_fill_the_sandbox_before_it_measures():
    with sandbox_process(1000, server_rate_per_minute=60_000) as sandbox:
        preload(sandbox.base_url, 3 * LEADS_PER_ADD)
        result = run(
            sandbox.base_url, sandbox.pid, requests=1, workers=1, tag="after", held=3 * LEADS_PER_ADD
        )
        held = httpx.get(f"{sandbox.url}/_sandbox/state").json()["leads"]
    assert held == 4 * LEADS_PER_ADD
    assert result["held_before"] == 3 * LEADS_PER_ADD
