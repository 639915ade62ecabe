"""Benchmark the push: how busy it keeps the request budget, and how many 429s it meets.

Starts a sandbox (its own process) with added latency and a rate limit, extracts N generated rows into a
temporary warehouse and pushes them to one campaign with the push engine (tasks/push_engine.py), sized by
the budget and the observed latency. Prints requests/s achieved vs the budget (utilisation %) and the share
of 429 answers, optionally next to a fixed small number of requests in flight, and writes the numbers to
bench/results/ (gitignored). Not a test: nothing here asserts a timing.

Example:
    .venv/bin/python bench/bench_push.py --rows 12000 --batch-size 20 --latency-ms 150 --rate-per-second 50
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._common import RESULTS, SCHEDULE, sandbox_process  # noqa: E402
from instantly_client import InstantlyClient  # noqa: E402
from tasks.extract import SourceSpec, describe_source, extract_source  # noqa: E402
from tasks.mapping import resolve_mapping  # noqa: E402
from tasks.push_engine import CampaignPush, PushTarget  # noqa: E402
from warehouse.db import Warehouse  # noqa: E402
from warehouse.ledger import LedgerScope  # noqa: E402


def write_rows(path: Path, rows: int, tag: str) -> Path:
    with path.open("w") as fh:
        fh.write("email,first_name,company,segment,score\n")
        for i in range(rows):
            fh.write(f"{tag}{i}@bench{i % 500}.dev,First{i},Company {i % 500},seg{i % 7},{i}\n")
    return path


def run_push(args: argparse.Namespace, url: str, tmp: Path, mode: str, max_in_flight: int) -> dict[str, Any]:
    """Push args.rows fresh rows to a fresh campaign; the client's counters give requests and 429s."""
    auth = {"Authorization": "Bearer sandbox-key"}
    body = {"name": f"bench-{mode}", "campaign_schedule": SCHEDULE}
    campaign = httpx.post(f"{url}/api/v2/campaigns", headers=auth, json=body).json()["id"]
    warehouse = Warehouse(tmp / f"{mode.split()[0]}.duckdb")
    spec = SourceSpec(str(write_rows(tmp / f"{mode.split()[0]}.csv", args.rows, mode.split()[0])))
    mapping = resolve_mapping(describe_source.fn(spec))
    table = extract_source.fn(spec, warehouse, email_column="email", key_column=None, run_id="bench")
    target = PushTarget(
        scope=LedgerScope("bench", campaign, table.name, "bench"),
        campaign_name=mode,
        mapping=mapping,
        key_given=False,
        row_count=table.row_count,
        skip_mode="none",
        batch_size=args.batch_size,
        max_in_flight=max_in_flight,
    )
    with InstantlyClient(
        api_key="sandbox-key",
        base_url=f"{url}/api/v2",
        rate_per_second=args.rate_per_second,
        rate_per_minute=args.rate_per_minute,
        timeout=60,
    ) as client:
        started = time.perf_counter()
        report = CampaignPush(client, warehouse, target).run()
        seconds = time.perf_counter() - started
        stats = client.stats
    budget = min(args.rate_per_second, args.rate_per_minute / 60)
    return {
        "mode": mode,
        "rows": table.row_count,
        "created": report.counts.get("created", 0),
        "seconds": round(seconds, 2),
        "requests": stats.requests,
        "requests_per_second": round(stats.requests / seconds, 1),
        "budget_per_second": budget,
        "budget_utilisation_pct": round(100 * stats.requests / (seconds * budget), 1),
        "rate_limited": stats.rate_limited,
        "rate_limited_pct": round(100 * stats.rate_limited / stats.requests, 2) if stats.requests else 0.0,
        "latency_ewma_ms": round(1000 * (stats.latency_ewma or 0), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=12_000)
    parser.add_argument(
        "--batch-size", type=int, default=20, help="leads per bulk add (small: many requests)"
    )
    parser.add_argument("--latency-ms", type=float, default=150)
    parser.add_argument("--rate-per-second", type=float, default=50, help="client budget")
    parser.add_argument("--rate-per-minute", type=float, default=3000, help="client budget")
    parser.add_argument("--server-rate-per-second", type=int, default=100, help="sandbox limit (429 above)")
    parser.add_argument(
        "--baseline-in-flight", type=int, default=2, help="fixed in-flight comparison (0: skip)"
    )
    args = parser.parse_args()

    results = []
    with sandbox_process(args.server_rate_per_second) as sandbox, tempfile.TemporaryDirectory() as tmp:
        url = sandbox.url
        httpx.post(f"{url}/_sandbox/faults", json={"latency_ms": args.latency_ms}).raise_for_status()
        results.append(run_push(args, url, Path(tmp), "adaptive (budget x latency)", 64))
        if args.baseline_in_flight:
            time.sleep(1.0)
            fixed = args.baseline_in_flight
            results.append(run_push(args, url, Path(tmp), f"fixed {fixed} in flight", fixed))
        server = httpx.get(f"{url}/_sandbox/stats").json()

    report = {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": platform.platform(),
        "args": vars(args),
        "results": results,
        "sandbox_rate_limited_total": server.get("rate_limited", 0),
    }
    budget = min(args.rate_per_second, args.rate_per_minute / 60)
    print(f"{args.rows} rows, {args.batch_size} per request, latency {args.latency_ms} ms, budget {budget}/s")
    print(f"{'mode':30} {'seconds':>8} {'requests':>9} {'req/s':>7} {'budget %':>9} {'429 %':>6}")
    for r in results:
        print(
            f"{r['mode']:30} {r['seconds']:>8} {r['requests']:>9} {r['requests_per_second']:>7}"
            f" {r['budget_utilisation_pct']:>9} {r['rate_limited_pct']:>6}"
        )
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"bench_push-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
