"""Benchmark the sandbox itself: how many leads a second it ingests through POST /leads/add.

The push benchmarks measure the client against the sandbox, so the sandbox must not be the bottleneck. This
starts the sandbox in its own process (one Python process: one core, whatever the machine has), sends N bulk
adds of 1,000 fresh, valid leads each (pre-serialised, so the sender's CPU stays small) from W threads, and
reports wall-clock leads/s and leads per CPU-second of the sandbox process (the figure that does not depend on
what else the machine is doing). Every request is validated against the OpenAPI schema as always.

Example:
    .venv/bin/python bench/bench_sandbox.py --requests 100 --workers 1 4
    .venv/bin/python bench/bench_sandbox.py --preload 1000000 --requests 200 --workers 1 4   # when full
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
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


def cpu_times(pid: int) -> tuple[float, float]:
    """User and system CPU seconds of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux /proc)."""
    return sum(cpu_times(pid))


def bodies(campaign_id: str, requests: int, tag: str) -> list[bytes]:
    """`requests` bulk-add bodies of fresh leads with the fields a real push sends."""
    return [body(campaign_id, r, tag) for r in range(requests)]


def body(campaign_id: str, r: int, tag: str) -> bytes:
    """Bulk add number `r` of run `tag`: 1,000 fresh leads."""
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
    return json.dumps({"campaign_id": campaign_id, "leads": leads, "skip_if_in_campaign": True}).encode()


def preload(base_url: str, leads: int) -> None:
    """Fill the sandbox with `leads` leads first (bodies made as they are sent, so memory stays small)."""
    headers = {"Authorization": "Bearer sandbox-key", "Content-Type": "application/json"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=300) as http:
        campaign = http.post("/campaigns", json={"name": "bench-preload", "campaign_schedule": SCHEDULE})
        campaign.raise_for_status()
        campaign_id = campaign.json()["id"]

        def send(r: int) -> None:
            http.post("/leads/add", content=body(campaign_id, r, "preload")).raise_for_status()

        with ThreadPoolExecutor(2) as pool:
            list(pool.map(send, range(leads // LEADS_PER_ADD)))


def run(base_url: str, pid: int, requests: int, workers: int, tag: str, held: int = 0) -> dict[str, float]:
    """Send `requests` bulk adds from `workers` threads; `held`: leads the sandbox holds before (reported)."""
    headers = {"Authorization": "Bearer sandbox-key", "Content-Type": "application/json"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=120) as http:
        campaign = http.post("/campaigns", json={"name": f"bench-{tag}", "campaign_schedule": SCHEDULE})
        campaign.raise_for_status()
        payloads = bodies(campaign.json()["id"], requests, tag)

        def send(body: bytes) -> int:
            response = http.post("/leads/add", content=body)
            response.raise_for_status()
            return int(response.json()["leads_uploaded"])

        (user0, system0), t0 = cpu_times(pid), time.perf_counter()
        with ThreadPoolExecutor(workers) as pool:
            uploaded = sum(pool.map(send, payloads))
        seconds, (user, system) = time.perf_counter() - t0, cpu_times(pid)
        cpu, system = user + system - user0 - system0, system - system0
    if uploaded != requests * LEADS_PER_ADD:
        raise SystemExit(f"expected {requests * LEADS_PER_ADD} leads uploaded, the sandbox said {uploaded}")
    return {
        "held_before": held,
        "workers": workers,
        "requests": requests,
        "leads": uploaded,
        "seconds": round(seconds, 2),
        "leads_per_second": round(uploaded / seconds),
        "sandbox_cpu_seconds": round(cpu, 2),
        "sandbox_system_seconds": round(system, 2),  # of which in the kernel (page faults, sockets)
        "leads_per_sandbox_cpu_second": round(uploaded / cpu) if cpu else 0,
        "ms_per_add": round(1000 * seconds / requests, 1),
    }


def _commit() -> str:
    """The checked-out commit of the sandbox measured (this script runs the sandbox of its own checkout)."""
    done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    return done.stdout.strip() or "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=100, help="bulk adds of 1,000 leads per run")
    parser.add_argument(
        "--workers", type=int, nargs="+", default=[1, 4], help="sending threads (one run each)"
    )
    parser.add_argument(
        "--preload", type=int, default=0, help="leads the sandbox holds before the first run (e.g. 1000000)"
    )
    args = parser.parse_args()

    results = []
    with sandbox_process(1_000_000, server_rate_per_minute=60_000_000) as sandbox:
        if args.preload:
            t0 = time.perf_counter()
            preload(sandbox.base_url, args.preload)
            print(f"preloaded {args.preload} leads in {time.perf_counter() - t0:.1f} s", flush=True)
        held = args.preload
        for n, workers in enumerate(args.workers):
            tag = f"r{n}-w{workers}"
            results.append(run(sandbox.base_url, sandbox.pid, args.requests, workers, tag, held))
            held += args.requests * LEADS_PER_ADD

    print(f"POST /leads/add, {LEADS_PER_ADD} leads per request, {args.requests} requests per run")
    print(
        f"{'held before':>11} {'workers':>7} {'seconds':>8} {'leads/s':>9} {'sandbox CPU s':>14}"
        f" {'leads/CPU-s':>12} {'us/lead':>8} {'sys %':>6} {'ms/add':>7}"
    )
    for r in results:
        print(
            f"{r['held_before']:>11} {r['workers']:>7} {r['seconds']:>8} {r['leads_per_second']:>9} {r['sandbox_cpu_seconds']:>14}"
            f" {r['leads_per_sandbox_cpu_second']:>12} {1e6 * r['sandbox_cpu_seconds'] / r['leads']:>8.1f}"
            f" {100 * r['sandbox_system_seconds'] / max(r['sandbox_cpu_seconds'], 0.01):>6.0f} {r['ms_per_add']:>7}"
        )
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"bench_sandbox-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    report = {
        **environment(),
        "commit": _commit(),
        "args": vars(args),
        "results": results,
    }
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
