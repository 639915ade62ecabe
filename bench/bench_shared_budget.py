"""One workspace budget shared through a Prefect global concurrency limit: how much of it the pushes use.

The production setup of docs/production.md ("One budget for all processes"), measured: a real `prefect server
start` (its own PREFECT_HOME), a global concurrency limit with slot decay, an InstantlyCredentials block that
names it and allows each process the whole budget, a sandbox in its own process that enforces the budget
(sliding windows, every arrival counted), and P `ops-instantly push` processes started at once, each pushing
its own CSV to one campaign. Each scenario gets a fresh sandbox; the sandbox's counters start when the pushes do.

Per scenario: requests that arrived, the seconds from the first to the last, requests/s, that rate as a share of
the budget, 429s, the busiest second (any 1 s) and the Prefect API calls are not counted here (they are
one per batch of slots, docs/production.md). The baseline scenario runs one push with no global limit.

    .venv/bin/python bench/bench_shared_budget.py                       # budget 100/s, 1 and 2 processes
    .venv/bin/python bench/bench_shared_budget.py --processes 1 --requests 300 --limit 30
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import RESULTS, ROOT, SCHEDULE, environment, sandbox_process  # noqa: E402
from tests.prefect_server import prefect_server  # noqa: E402

OPS = ROOT / ".venv" / "bin" / "ops-instantly"

SETUP = """
import sys
from pydantic import SecretStr
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
from blocks import InstantlyCredentials

block, base_url, budget, limit_name, limit, decay = sys.argv[1:7]
if limit_name:
    with get_client(sync_client=True) as prefect:
        prefect.create_global_concurrency_limit(
            GlobalConcurrencyLimitCreate(name=limit_name, limit=int(limit), slot_decay_per_second=float(decay))
        )
InstantlyCredentials(
    api_key=SecretStr("sandbox-key"), base_url=base_url, rate_per_second=float(budget),
    rate_per_minute=float(budget) * 60, global_rate_limit=limit_name or None,
).save(block, overwrite=True)
"""


def scenario(
    env: dict[str, str], work: Path, args: argparse.Namespace, processes: int, *, shared: bool, tag: str
) -> dict[str, Any]:
    """Run `processes` pushes at once against a fresh sandbox; what arrived there."""
    leads = args.requests * args.leads_per_add
    with sandbox_process(args.budget, server_rate_per_minute=args.budget * 60) as sandbox:
        httpx.post(f"{sandbox.url}/_sandbox/faults", json={"latency_ms": args.latency_ms}).raise_for_status()
        auth = {"Authorization": "Bearer sandbox-key"}
        body = {"name": f"shared-{tag}", "campaign_schedule": SCHEDULE}
        campaign = httpx.post(f"{sandbox.base_url}/campaigns", headers=auth, json=body, timeout=30).json()[
            "id"
        ]
        limit_name = f"instantly-{tag}" if shared else ""
        setup = [sys.executable, "-c", SETUP, f"bench-{tag}", sandbox.base_url, str(args.budget), limit_name]
        setup += [str(args.limit), str(args.decay or args.budget * 0.9)]
        subprocess.run(setup, env=env, cwd=ROOT, check=True, capture_output=True, timeout=120)
        commands = []
        for p in range(processes):
            csv = work / f"{tag}-{p}.csv"
            csv.write_text("email,first_name\n" + "".join(f"p{p}-{i}@{tag}.dev,N{i}\n" for i in range(leads)))
            commands.append(
                [
                    str(OPS),
                    "push",
                    "--source",
                    str(csv),
                    "--campaign",
                    campaign,
                    "--credentials",
                    f"bench-{tag}",
                ]
                + ["--warehouse", str(work / f"{tag}-{p}.duckdb"), "--batch-size", str(args.leads_per_add)]
            )
        httpx.post(f"{sandbox.url}/_sandbox/stats/reset", timeout=30).raise_for_status()
        started = time.monotonic()
        pushes = [
            subprocess.Popen(c, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for c in commands
        ]
        outputs = [p.communicate(timeout=600) for p in pushes]
        wall = time.monotonic() - started
        for push, (out, err) in zip(pushes, outputs, strict=True):
            if push.returncode != 0:
                raise SystemExit(f"a push failed:\n{out[-2000:]}\n{err[-2000:]}")
        stats = httpx.get(f"{sandbox.url}/_sandbox/stats", timeout=30).json()
        held = int(httpx.get(f"{sandbox.url}/_sandbox/state", timeout=60).json()["leads"])
    requests, span = int(stats.get("requests", 0)), float(stats["attempt_span_seconds"])
    rate = requests / span if span else 0.0
    return {
        "scenario": tag,
        "global_limit": f"--limit {args.limit} --slot-decay-per-second {args.decay or args.budget * 0.9:g}"
        if shared
        else "none",
        "processes": processes,
        "requests": requests,
        "seconds": round(span, 2),
        "requests_per_second": round(rate, 1),
        "budget_share": round(rate / args.budget, 3),
        "rate_limited": int(stats.get("rate_limited", 0)),
        "busiest_second": int(stats["busiest_second"]),
        "leads_landed": held,
        "leads_expected": processes * leads,
        "wall_seconds": round(wall, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--budget", type=float, default=100, help="requests/s: the sandbox's limit, each block's rate"
    )
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--requests", type=int, default=600, help="bulk adds per process")
    parser.add_argument("--leads-per-add", type=int, default=100)
    parser.add_argument("--latency-ms", type=float, default=250)
    parser.add_argument("--limit", type=int, default=10, help="the global limit's size (largest burst)")
    parser.add_argument(
        "--decay", type=float, default=0, help="its slot decay per second (default 0.9 x budget)"
    )
    parser.add_argument("--no-baseline", action="store_true", help="skip the push without a global limit")
    args = parser.parse_args()

    results = []
    with tempfile.TemporaryDirectory(prefix="bench-shared-") as tmp:
        work = Path(tmp)
        with prefect_server(work / "prefect") as env:
            if not args.no_baseline:
                results.append(scenario(env, work, args, 1, shared=False, tag="alone"))
            for processes in args.processes:
                results.append(scenario(env, work, args, processes, shared=True, tag=f"shared{processes}"))
    print(f"\nBudget {args.budget:g} req/s, {args.requests} bulk adds of {args.leads_per_add} per process, "
          f"latency {args.latency_ms:g} ms")  # fmt: skip
    header = ["global_limit", "processes", "requests", "seconds", "requests_per_second", "budget_share"]
    header += ["rate_limited", "busiest_second", "leads_landed"]
    print(" | ".join(header))
    for row in results:
        print(" | ".join(str(row[h]) for h in header))
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"shared-budget-{int(time.time())}.json"
    out.write_text(
        json.dumps({"environment": environment(), "args": vars(args), "results": results}, indent=2)
    )
    print(f"results: {out}")


if __name__ == "__main__":
    main()
