"""Benchmark the sync's leads pull: how busy it keeps the request budget, and how many 429s it meets.

Starts a sandbox in its own process that enforces the same budget as the client (counting in fixed
windows, then in sliding ones: the real API's algorithm is not documented), fills N leads across K campaigns
(most of them "known" from a simulated push ledger), then runs the fanned-out leads pull
(`tasks/pull_leads.py`) and, for comparison, one sequential cursor per campaign. Prints budget utilisation
(requests sent / requests the budget allowed in that time) and the share of 429 answers, and writes the
numbers to bench/results/.

Example:
    .venv/bin/python bench/bench_sync.py                       # 60,000 leads, 250 ms, 20/s and 1,200/min
    .venv/bin/python bench/bench_sync.py --leads 20000 --campaigns 4 --latency-ms 80 --rate-window sliding
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._common import RESULTS, SCHEDULE, Sandbox, environment, sandbox_process  # noqa: E402
from instantly_client import InstantlyClient, RateLimiter  # noqa: E402
from tasks.pull_leads import pull_lead_records  # noqa: E402
from tasks.pull_staging import Staging  # noqa: E402


def email(campaign: int, j: int, emails: str) -> str:
    """The j-th lead's email: numbered (`c0-17@`: the email order follows the id order in long runs) or
    scattered (a hash first: the email order has nothing to do with the order the leads were added in)."""
    if emails == "scattered":
        return f"{hashlib.sha256(f'{campaign}-{j}'.encode()).hexdigest()[:8]}.c{campaign}-{j}@bench.dev"
    return f"c{campaign}-{j}@bench.dev"


def fill(
    client: InstantlyClient, campaigns: int, leads: int, emails: str = "numbered"
) -> dict[str, list[str]]:
    """K campaigns sharing N leads (the first gets a double share: one big campaign); ids per campaign."""
    weights = [2] + [1] * (campaigns - 1)
    ids: dict[str, list[str]] = {}
    made = 0
    for i, weight in enumerate(weights):
        n = leads - made if i == campaigns - 1 else leads * weight // sum(weights)
        campaign = client.campaigns.create({"name": f"bench-{i}", "campaign_schedule": SCHEDULE})
        ids[campaign.id] = []
        for start in range(0, n, 1000):
            batch = [{"email": email(i, j, emails)} for j in range(start, min(n, start + 1000))]
            result = client.leads.add(campaign_id=campaign.id, leads=batch)
            ids[campaign.id] += [c.id for c in result.created_leads]
        made += n
    return ids


def measure(name: str, client: InstantlyClient, run, budget_per_second: float) -> dict[str, float]:
    before = client.stats
    load = os.getloadavg()[0]
    cpu = time.process_time()
    started = time.perf_counter()
    count = run()
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu
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
        "client_cpu_seconds": round(cpu, 2),
        "load_average_1min_at_start": round(load, 1),
    }


def busiest(times: list[float], period: float) -> int:
    """The most of `times` within any `period` seconds."""
    ordered, most, first = sorted(times), 0, 0
    for last, t in enumerate(ordered):
        while t - ordered[first] >= period:
            first += 1
        most = max(most, last - first + 1)
    return most


def known_part(lead_ids: list[str], fraction: float, unknown: str) -> list[str]:
    """The ids the push ledger knows: the oldest `fraction` (unknown = "tail": leads added outside the
    project since the last push) or all but an evenly spread rest (unknown = "spread")."""
    if unknown == "tail":
        return lead_ids[: int(len(lead_ids) * fraction)]
    every = round(1 / (1 - fraction)) if fraction < 1 else 0
    return [lead_id for i, lead_id in enumerate(lead_ids) if not every or i % every != every - 1]


def synced_part(lead_ids: list[str], known: list[str], fraction: float) -> list[str]:
    """The ids a previous sync stored: the known ones and the oldest `fraction` of the others (those added
    outside the project before that sync)."""
    ledger = set(known)
    unknown = [lead_id for lead_id in lead_ids if lead_id not in ledger]
    return known + unknown[: int(len(unknown) * fraction)]


def run_window(args: argparse.Namespace, window: str, baseline: bool) -> list[dict[str, float]]:
    """Fill a sandbox, restart it from that state counting with `window`, then time the pull(s) against it."""
    server_ps = args.server_rate_per_second or args.rate_per_second
    server_pm = args.server_rate_per_minute or args.rate_per_minute
    with tempfile.TemporaryDirectory() as state_dir:
        state = Path(state_dir) / "sandbox.json"
        # The fill's requests must not count against the measured run's budget: fill a sandbox without a
        # tight limit, save its state, and measure against a fresh one started from that state.
        with (
            sandbox_process(1000, server_rate_per_minute=60_000, state_file=state) as sb,
            InstantlyClient(api_key=sb.api_key, base_url=sb.base_url, rate_per_second=500) as setup,
        ):
            ids = fill(setup, args.campaigns, args.leads, args.emails)
        with sandbox_process(
            server_ps, server_rate_per_minute=server_pm, rate_window=window, state_file=state
        ) as sb:
            httpx.post(f"{sb.url}/_sandbox/faults", json={"latency_ms": args.latency_ms}).raise_for_status()
            return _measure_pulls(args, sb, ids, baseline, window)


def _measure_pulls(
    args: argparse.Namespace, sb: Sandbox, ids: dict[str, list[str]], baseline: bool, window: str
) -> list[dict[str, float]]:
    """The fan-out (and, if `baseline`, one sequential cursor per campaign), each with a fresh limiter."""
    known = {cid: known_part(lead_ids, args.known_fraction, args.unknown) for cid, lead_ids in ids.items()}
    synced = {cid: synced_part(lead_ids, known[cid], args.synced_fraction) for cid, lead_ids in ids.items()}
    budget = min(args.rate_per_second, args.rate_per_minute / 60)
    results = []
    shape: dict[str, int] = {}  # the fan-out's chains, and how many open-ended chains split
    with tempfile.TemporaryDirectory() as tmp:

        def fanned_out(client: InstantlyClient) -> int:
            staging = Staging(Path(tmp) / "fan")
            staging.open("bench")
            pulled = pull_lead_records(
                client, list(ids), known, staging, leads_per_chain=args.leads_per_chain, synced_ids=synced
            )
            shape.update(chains=pulled.chains, chains_split=pulled.chains_split)
            return len(pulled.records)

        def sequential(client: InstantlyClient) -> int:
            return sum(1 for cid in ids for _ in client.leads.list(campaign=cid, limit=100))

        modes = [("fan-out (sync)", fanned_out)]
        if baseline:
            modes.append(("one sequential cursor per campaign", sequential))
        for name, run in modes:
            # A fresh limiter per mode: each starts at the configured budget, knowing nothing.
            limiter = RateLimiter(args.rate_per_second, args.rate_per_minute)
            with InstantlyClient(api_key=sb.api_key, base_url=sb.base_url, limiter=limiter) as client:
                result = measure(name, client, lambda c=client, r=run: r(c), budget)
            server = httpx.get(f"{sb.url}/_sandbox/stats").json()
            results.append(
                {
                    **result,
                    "server_window": window,
                    "final_pace_per_second": round(limiter.rate, 2),
                    # the most requests in any 1 s: as our limiter let them start, as the sandbox saw them arrive
                    "client_busiest_second": busiest(limiter._starts, 1.0),
                    "server_busiest_second": server["busiest_second"],
                    **(shape if run is fanned_out else {}),
                }
            )
            time.sleep(1.0)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=60000)
    parser.add_argument("--campaigns", type=int, default=1)
    parser.add_argument("--latency-ms", type=float, default=250)
    parser.add_argument("--rate-per-second", type=float, default=20, help="client budget")
    parser.add_argument("--rate-per-minute", type=float, default=1200, help="client budget")
    parser.add_argument(
        "--server-rate-per-second",
        type=float,
        default=None,
        help="sandbox limit, 429 above (default: the budget)",
    )
    parser.add_argument(
        "--server-rate-per-minute",
        type=float,
        default=None,
        help="sandbox limit, 429 above (default: the budget)",
    )
    parser.add_argument(
        "--rate-window", choices=("fixed", "sliding", "both"), default="both", help="how the sandbox counts"
    )
    parser.add_argument("--known-fraction", type=float, default=0.8, help="share of leads in the ledger")
    parser.add_argument(
        "--unknown",
        choices=("tail", "spread"),
        default="tail",
        help="where the leads the ledger does not know lie: after the last known one, or spread among them",
    )
    parser.add_argument(
        "--synced-fraction",
        type=float,
        default=0.0,
        help="share of the leads the ledger does not know that a previous sync already stored (the oldest)",
    )
    parser.add_argument(
        "--emails",
        choices=("numbered", "scattered"),
        default="numbered",
        help="lead emails: numbered in the order added, or with a hash first (an order unrelated to it)",
    )
    parser.add_argument("--leads-per-chain", type=int, default=2000)
    parser.add_argument("--no-baseline", action="store_true", help="skip the sequential comparison")
    args = parser.parse_args()

    windows = ["fixed", "sliding"] if args.rate_window == "both" else [args.rate_window]
    results = []
    for i, window in enumerate(windows):
        results += run_window(args, window, baseline=not args.no_baseline and i == 0)
    budget = min(args.rate_per_second, args.rate_per_minute / 60)
    report = {
        **environment(),
        "args": vars(args),
        "results": results,
    }
    print(
        f"{args.leads} leads in {args.campaigns} campaign(s), latency {args.latency_ms} ms, "
        f"budget {args.rate_per_second}/s and {args.rate_per_minute}/min ({budget}/s), sandbox enforces the same"
    )
    print(
        f"{'mode':36} {'window':>8} {'seconds':>8} {'requests':>9} {'budget %':>9} {'429 %':>6} {'leads/s':>9}"
        f" {'client CPU s':>13} {'load':>5}"
    )
    for r in results:
        print(
            f"{r['mode']:36} {r['server_window']:>8} {r['seconds']:>8} {r['requests']:>9}"
            f" {r['budget_utilisation_pct']:>9} {r['rate_limited_pct']:>6} {r['leads_per_second']:>9}"
            f" {r['client_cpu_seconds']:>13} {r['load_average_1min_at_start']:>5}"
        )
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"bench_sync-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
