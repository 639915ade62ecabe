"""Benchmark the sync's leads pull: how busy it keeps the request budget, and how many 429s it meets.

Starts a sandbox with added latency, fills N leads across K campaigns (most of them "known" from a simulated
push ledger), then runs the fanned-out leads pull (`tasks/pull_leads.py`) and, for comparison, one
sequential cursor per campaign. Prints budget utilisation (requests sent / requests the budget allowed in
that time) and the share of 429 answers, and writes the numbers to bench/results/.

Example:
    .venv/bin/python bench/bench_sync.py --leads 20000 --campaigns 4 --latency-ms 80
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

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._common import RESULTS, SCHEDULE  # noqa: E402
from instantly_client import InstantlyClient  # noqa: E402
from instantly_sandbox import SandboxServer  # noqa: E402
from tasks.pull_leads import pull_lead_records  # noqa: E402
from tasks.pull_staging import Staging  # noqa: E402


def fill(client: InstantlyClient, campaigns: int, leads: int) -> dict[str, list[str]]:
    """K campaigns sharing N leads (the first gets a double share: one big campaign); ids per campaign."""
    weights = [2] + [1] * (campaigns - 1)
    ids: dict[str, list[str]] = {}
    made = 0
    for i, weight in enumerate(weights):
        n = leads - made if i == campaigns - 1 else leads * weight // sum(weights)
        campaign = client.campaigns.create({"name": f"bench-{i}", "campaign_schedule": SCHEDULE})
        ids[campaign.id] = []
        for start in range(0, n, 1000):
            batch = [{"email": f"c{i}-{j}@bench.dev"} for j in range(start, min(n, start + 1000))]
            result = client.leads.add(campaign_id=campaign.id, leads=batch)
            ids[campaign.id] += [c.id for c in result.created_leads]
        made += n
    return ids


def measure(name: str, client: InstantlyClient, run, budget_per_second: float) -> dict[str, float]:
    before = client.stats
    started = time.perf_counter()
    count = run()
    seconds = time.perf_counter() - started
    after = client.stats
    requests = after.requests - before.requests
    limited = after.rate_limited - before.rate_limited
    return {
        "mode": name,
        "leads": count,
        "seconds": round(seconds, 2),
        "requests": requests,
        "rate_limited": limited,
        "budget_utilisation_pct": round(100 * requests / (seconds * budget_per_second), 1),
        "rate_limited_pct": round(100 * limited / requests, 2) if requests else 0.0,
        "leads_per_second": round(count / seconds, 1),
        "latency_ewma_ms": round(1000 * (after.latency_ewma or 0), 1),
        "retries": after.retries - before.retries,
        "transport_errors": after.transport_errors - before.transport_errors,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=20000)
    parser.add_argument("--campaigns", type=int, default=4)
    parser.add_argument("--latency-ms", type=float, default=80)
    parser.add_argument("--rate-per-second", type=float, default=50, help="client budget")
    parser.add_argument("--rate-per-minute", type=float, default=3000, help="client budget")
    parser.add_argument("--server-rate-per-second", type=int, default=100, help="sandbox limit (429 above)")
    parser.add_argument("--known-fraction", type=float, default=0.8, help="share of leads in the ledger")
    parser.add_argument("--leads-per-chain", type=int, default=2000)
    parser.add_argument("--no-baseline", action="store_true", help="skip the sequential comparison")
    parser.add_argument(
        "--in-process", action="store_true", help="run the sandbox in a thread of this process"
    )
    args = parser.parse_args()

    with SandboxServer(
        port=0, seed=1, rate_per_second=args.server_rate_per_second, rate_per_minute=6000
    ) as sb:
        with InstantlyClient(api_key=sb.api_key, base_url=sb.base_url, rate_per_second=90) as setup:
            ids = fill(setup, args.campaigns, args.leads)
        httpx.post(f"{sb.url}/_sandbox/faults", json={"latency_ms": args.latency_ms}).raise_for_status()
        time.sleep(1.0)  # let the sandbox's per-second window empty after the fill
        known = {cid: lead_ids[: int(len(lead_ids) * args.known_fraction)] for cid, lead_ids in ids.items()}
        budget = min(args.rate_per_second, args.rate_per_minute / 60)
        client = InstantlyClient(
            api_key=sb.api_key,
            base_url=sb.base_url.replace("127.0.0.1", "localhost"),  # its own limiter, not the fill's
            rate_per_second=args.rate_per_second,
            rate_per_minute=args.rate_per_minute,
        )
        results = []
        with client, tempfile.TemporaryDirectory() as tmp:

            def fanned_out() -> int:
                staging = Staging(Path(tmp) / "fan")
                staging.open("bench")
                pulled = pull_lead_records(
                    client, list(ids), known, staging, leads_per_chain=args.leads_per_chain
                )
                return len(pulled.records)

            def sequential() -> int:
                return sum(1 for cid in ids for _ in client.leads.list(campaign=cid, limit=100))

            results.append(measure("fan-out (sync)", client, fanned_out, budget))
            if not args.no_baseline:
                time.sleep(1.0)
                results.append(measure("one cursor per campaign, sequential", client, sequential, budget))
        server = httpx.get(f"{sb.url}/_sandbox/stats").json()

    report = {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": platform.platform(),
        "args": vars(args),
        "results": results,
        "sandbox_rate_limited_total": server.get("rate_limited", 0),
    }
    print(
        f"{args.leads} leads in {args.campaigns} campaigns, latency {args.latency_ms} ms, budget {budget}/s"
    )
    print(f"{'mode':38} {'seconds':>8} {'requests':>9} {'budget %':>9} {'429 %':>6} {'leads/s':>9}")
    for r in results:
        print(
            f"{r['mode']:38} {r['seconds']:>8} {r['requests']:>9} {r['budget_utilisation_pct']:>9}"
            f" {r['rate_limited_pct']:>6} {r['leads_per_second']:>9}"
        )
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"bench_sync-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
