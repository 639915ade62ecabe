"""A small run of bench/bench_push.py as `make bench-push` runs it: correctness only, never a timing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bench.bench_push import ROOT, SDK_PYTHON

pytestmark = pytest.mark.slow
ROWS = 2_000


def bench(tmp_path: Path, *extra: str) -> dict[str, dict[str, Any]]:
    out = tmp_path / "bench.json"
    command = [sys.executable, str(ROOT / "bench" / "bench_push.py"), "--rows", str(ROWS), "--budgets", "50",
               "--latency-ms", "20", "--out", str(out), *extra]  # fmt: skip
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "wall s" in done.stdout and "budget %" in done.stdout  # the table was printed
    return {r["mode"].split(" (")[0]: r for r in json.loads(out.read_text())["results"]}


def test_push_benchmark_creates_every_lead_once_and_its_reruns_send_no_write(tmp_path: Path) -> None:
    results = bench(tmp_path, "--single-lead-rows", "0", "--sdk-max-rows", "0")
    ours = results["ours"]
    assert ours["counts"] == {"created": ROWS} and ours["leads_in_sandbox"] == ROWS
    assert ours["requests"] == ROWS // 1000  # 1,000 leads per request
    assert ours["peak_rss_mb"] > 0 and ours["client_cpu_seconds"] > 0 and ours["wall_vs_ideal"] > 0
    assert 0 < ours["machine_busy_pct"] <= 100  # both processes' CPU while pushing, over the machine's
    for mode in ("ours, no-change re-run", "ours, second no-change re-run"):
        rerun = results[mode]
        assert rerun["counts"] == {"unchanged": ROWS} and rerun["writes_sent"] == 0 and rerun["requests"] == 0


@pytest.mark.skipif(not SDK_PYTHON.exists(), reason="no bench SDK venv (make bench-sdk-venv)")
def test_sdk_comparison_runs_send_the_same_leads(tmp_path: Path) -> None:
    results = bench(tmp_path, "--single-lead-rows", "5")
    assert results["sdk-sequential"]["leads_in_sandbox"] == ROWS
    assert results["sdk-gather"]["leads_in_sandbox"] == ROWS
    single = results["sdk-single"]
    assert single["leads_in_sandbox"] == 5 and "extrapolated" in single["mode"] and single["rows"] == ROWS
