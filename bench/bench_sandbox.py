"""Benchmark the sandbox itself: how many leads a second it ingests through POST /leads/add.

The push benchmarks measure the client against the sandbox, so the sandbox must not be the bottleneck. This
starts the sandbox in its own process (one Python process: one core, whatever the machine has), sends N bulk
adds of 1,000 fresh, valid leads each (pre-serialised, so the sender's CPU stays small) from W threads, and
reports wall-clock leads/s and leads per CPU-second of the sandbox process (the figure that does not depend on
what else the machine is doing). Every request is validated against the OpenAPI schema as always.

Example:
    .venv/bin/python bench/bench_sandbox.py --requests 100 --workers 1 4
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._common import RESULTS, SCHEDULE, environment, sandbox_process  # noqa: E402

LEADS_PER_ADD = 1000  # SPEC POST /leads/add maxItems


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bodies(campaign_id: str, requests: int, tag: str) -> list[bytes]:
    """`requests` bulk-add bodies of fresh leads with the fields a real push sends."""
    out = []
    for r in range(requests):
        leads = [
            {
                "email": f"{tag}-{r}-{i}@bench-{i % 97}.dev",
                "first_name": "Ada",
                "last_name": f"Lovelace {i}",
                "company_name": "Analytical Engines",
                "website": "https://example.com",
                "custom_variables": {"row": i, "segment": "bench", "vip": i % 2 == 0},
            }
            for i in range(LEADS_PER_ADD)
        ]
        out.append(
            json.dumps({"campaign_id": campaign_id, "leads": leads, "skip_if_in_campaign": True}).encode()
        )
    return out


def run(base_url: str, pid: int, requests: int, workers: int, tag: str) -> dict[str, float]:
    headers = {"Authorization": "Bearer sandbox-key", "Content-Type": "application/json"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=120) as http:
        campaign = http.post("/campaigns", json={"name": f"bench-{tag}", "campaign_schedule": SCHEDULE})
        campaign.raise_for_status()
        payloads = bodies(campaign.json()["id"], requests, tag)

        def send(body: bytes) -> int:
            response = http.post("/leads/add", content=body)
            response.raise_for_status()
            return int(response.json()["leads_uploaded"])

        cpu0, t0 = cpu_seconds(pid), time.perf_counter()
        with ThreadPoolExecutor(workers) as pool:
            uploaded = sum(pool.map(send, payloads))
        seconds, cpu = time.perf_counter() - t0, cpu_seconds(pid) - cpu0
    if uploaded != requests * LEADS_PER_ADD:
        raise SystemExit(f"expected {requests * LEADS_PER_ADD} leads uploaded, the sandbox said {uploaded}")
    return {
        "workers": workers,
        "requests": requests,
        "leads": uploaded,
        "seconds": round(seconds, 2),
        "leads_per_second": round(uploaded / seconds),
        "sandbox_cpu_seconds": round(cpu, 2),
        "leads_per_sandbox_cpu_second": round(uploaded / cpu) if cpu else 0,
        "ms_per_add": round(1000 * seconds / requests, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=100, help="bulk adds of 1,000 leads per run")
    parser.add_argument(
        "--workers", type=int, nargs="+", default=[1, 4], help="sending threads (one run each)"
    )
    args = parser.parse_args()

    results = []
    with sandbox_process(1_000_000, server_rate_per_minute=60_000_000) as sandbox:
        for workers in args.workers:
            results.append(run(sandbox.base_url, sandbox.pid, args.requests, workers, f"w{workers}"))

    print(f"POST /leads/add, {LEADS_PER_ADD} leads per request, {args.requests} requests per run")
    print(
        f"{'workers':>7} {'seconds':>8} {'leads/s':>9} {'sandbox CPU s':>14} {'leads/CPU-s':>12} {'ms/add':>7}"
    )
    for r in results:
        print(
            f"{r['workers']:>7} {r['seconds']:>8} {r['leads_per_second']:>9} {r['sandbox_cpu_seconds']:>14}"
            f" {r['leads_per_sandbox_cpu_second']:>12} {r['ms_per_add']:>7}"
        )
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"bench_sandbox-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    report = {
        **environment(),
        "args": vars(args),
        "results": results,
    }
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
