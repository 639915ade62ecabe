"""Benchmark the push at 1,000 leads per request: wall time, leads/s, budget used, 429s, peak RSS, client CPU.

For each table size and budget it starts a fresh sandbox process (its rate limit set to the budget, a fixed
added latency), writes N generated leads to a CSV and runs, each in its own process so RSS and CPU are its
own:

- `ops-instantly push engine`: extract into a fresh warehouse, then `CampaignPush` (tasks/push_engine.py);
  then the same push again twice (no-change re-runs: they must send no write; the second is a schedule's
  steady state, where the push also deletes the first re-run's `unchanged` results);
- the published `instantlyai` SDK (bench/sdk_push.py in the bench SDK venv): its bulk add in a sequential
  loop, and all bulk adds under `asyncio.gather`;
- single-lead `POST /leads` with a 100 ms pause (the SDK's `leads.create`), on a small N, extrapolated to
  N and labelled so.

Budget used = requests sent / (push seconds x budget). The ideal wall time is requests / budget plus the
extract. Not a test: nothing here asserts a timing (tests/bench/ runs a smoke version for correctness).

Example:
    .venv/bin/python bench/bench_push.py --rows 10000 100000 --budgets 20 100 --latency-ms 250
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._common import RESULTS, SCHEDULE, environment, sandbox_process  # noqa: E402

SDK_PYTHON = ROOT / "bench" / ".venv-sdk" / "bin" / "python"
LEADS_PER_ADD = 1000  # SPEC POST /leads/add maxItems
WRITES = ("POST /api/v2/leads/add", "PATCH /api/v2/leads/{id}", "POST /api/v2/leads")


def write_csv(path: Path, rows: int) -> Path:
    """N distinct, valid leads with six fields and two custom variables (written by DuckDB: fast at 1M)."""
    import duckdb

    con = duckdb.connect()
    con.execute(
        "COPY (SELECT 'Lead' || i || '@Bench' || (i % 997) || '.dev' AS email, 'First' || i AS first_name, "
        "'Last' || (i % 5003) AS last_name, 'Company ' || (i % 997) AS company, "
        "CASE WHEN i % 2 = 0 THEN 'CTO' ELSE 'Founder' END AS job_title, "
        "'https://c' || (i % 997) || '.dev' AS website, 'seg' || (i % 7) AS segment, i AS score "
        f"FROM range({int(rows)}) t(i)) TO '{path}' (HEADER, DELIMITER ',')"
    )
    con.close()
    return path


def sandbox_stats(url: str) -> dict[str, Any]:
    return dict(httpx.get(f"{url}/_sandbox/stats", timeout=30).json())


def writes(stats: dict[str, Any]) -> int:
    per_path = stats.get("per_path", {})
    return sum(int(per_path.get(k, 0)) for k in WRITES)


def leads_in(url: str) -> int:
    """Leads the sandbox holds (each mode runs against a fresh sandbox: the leads that mode created)."""
    return int(httpx.get(f"{url}/_sandbox/state", timeout=60).json()["leads"])


def make_campaign(url: str, name: str) -> str:
    auth = {"Authorization": "Bearer sandbox-key"}
    body = {"name": name, "campaign_schedule": SCHEDULE}
    return str(httpx.post(f"{url}/api/v2/campaigns", headers=auth, json=body, timeout=30).json()["id"])


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# -- the child: our push engine in its own process ----------------------------------------------------------


def child(args: argparse.Namespace) -> None:
    """Extract the CSV into a warehouse and push it (three times with --rerun); print one JSON line per push."""
    import ops_instantly.cli  # noqa: F401  (the process settings of `ops-instantly`, POLARS_MAX_THREADS among them)
    from instantly_client import InstantlyClient
    from tasks.extract import SourceSpec, describe_source, extract_source
    from tasks.mapping import resolve_mapping
    from tasks.push_engine import CampaignPush, PushTarget
    from warehouse.db import Warehouse
    from warehouse.ledger import LedgerScope

    def usage() -> tuple[float, int]:
        u = resource.getrusage(resource.RUSAGE_SELF)
        return u.ru_utime + u.ru_stime, u.ru_maxrss // 1024

    warehouse = Warehouse(args.warehouse)
    spec = SourceSpec(args.csv)
    for attempt in range(3 if args.rerun else 1):
        cpu0, started = usage()[0], time.perf_counter()
        mapping = resolve_mapping(describe_source.fn(spec))
        run_id = f"bench-{attempt}"
        table = extract_source.fn(spec, warehouse, email_column="email", key_column=None, run_id=run_id)
        extract_seconds = time.perf_counter() - started
        target = PushTarget(
            scope=LedgerScope("bench", args.campaign, table.name, run_id),
            campaign_name="bench",
            mapping=mapping,
            key_given=False,
            row_count=table.row_count,
            skip_mode="in_campaign",
        )
        with InstantlyClient(
            api_key="sandbox-key",
            base_url=args.base_url,
            rate_per_second=args.rate_per_second,
            rate_per_minute=args.rate_per_second * 60,
            timeout=120,
        ) as client:
            pushed, push_cpu0, sandbox_cpu0 = time.perf_counter(), usage()[0], cpu_seconds(args.sandbox_pid)
            report = CampaignPush(client, warehouse, target).run()
            push_seconds = time.perf_counter() - pushed
            push_cpu, sandbox_cpu = usage()[0] - push_cpu0, cpu_seconds(args.sandbox_pid) - sandbox_cpu0
            stats = client.stats
        cpu, rss = usage()
        print(
            json.dumps(
                {
                    "attempt": attempt,
                    "rows": table.row_count,
                    "counts": dict(report.counts),
                    "extract_seconds": round(extract_seconds, 2),
                    "push_seconds": round(push_seconds, 2),
                    "seconds": round(time.perf_counter() - started, 2),
                    "requests": stats.requests,
                    "rate_limited": stats.rate_limited,
                    "cpu_seconds": round(cpu - cpu0, 2),
                    "push_cpu_seconds": round(push_cpu, 2),
                    "sandbox_push_cpu_seconds": round(sandbox_cpu, 2),
                    "peak_rss_mb": rss,
                    "latency_ewma_ms": round(1000 * (stats.latency_ewma or 0), 1),
                }
            ),
            flush=True,
        )


# -- the parent: sandboxes, children, the table ----------------------------------------------------------------


class ChildFailedError(Exception):
    """A benchmarked push failed; its last error line says how."""


def run_child(command: list[str], timeout: float) -> list[dict[str, Any]]:
    try:
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise ChildFailedError(f"did not finish within {timeout:.0f} s") from None
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        raise ChildFailedError(lines[-1] if lines else f"exit status {done.returncode}")
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]


def one_budget(
    args: argparse.Namespace, csv: Path, rows: int, budget: float, tmp: Path
) -> list[dict[str, Any]]:
    """Every mode for one table size and budget, each against a fresh sandbox (fresh state, own counters)."""
    out: list[dict[str, Any]] = []
    modes = ["ours"]
    if SDK_PYTHON.exists() and rows <= args.sdk_max_rows:
        modes += ["sdk-sequential", "sdk-gather"]
    if SDK_PYTHON.exists() and args.single_lead_rows and rows == min(args.rows):
        modes.append("sdk-single")
    for mode in modes:
        with sandbox_process(budget, server_rate_per_minute=budget * 60) as sandbox:
            httpx.post(
                f"{sandbox.url}/_sandbox/faults", json={"latency_ms": args.latency_ms}
            ).raise_for_status()
            campaign = make_campaign(sandbox.url, f"bench-{mode}-{rows}-{budget}")
            before = sandbox_stats(sandbox.url)
            cpu_before = cpu_seconds(sandbox.pid)
            timeout = 60 + 20 * rows / LEADS_PER_ADD / budget + rows / 2000
            if mode == "ours":
                warehouse = tmp / f"wh-{rows}-{budget}.duckdb"
                command = [sys.executable, __file__, "--child", "--csv", str(csv), "--warehouse", str(warehouse),
                           "--campaign", campaign, "--base-url", sandbox.base_url,
                           "--rate-per-second", str(budget), "--sandbox-pid", str(sandbox.pid),
                           "--rerun"]  # fmt: skip
                try:
                    first, again, steady = run_child(command, timeout)
                except ChildFailedError as exc:
                    out.append({"mode": mode, "rows": rows, "budget": budget, "error": str(exc)[:300],
                                "leads_in_sandbox": leads_in(sandbox.url)})  # fmt: skip
                    continue
                after = sandbox_stats(sandbox.url)
                row = _row(mode, rows, rows, budget, first, before, after)
                row["sandbox_cpu_seconds"] = round(cpu_seconds(sandbox.pid) - cpu_before, 1)
                out.append(row)
                final = sandbox_stats(sandbox.url)
                rerun = _row("ours, no-change re-run", rows, rows, budget, again, after, final)
                rerun["writes_sent"] = writes(final) - writes(after)
                row["leads_in_sandbox"] = rerun["leads_in_sandbox"] = leads_in(sandbox.url)
                out.append(rerun)
                # The second re-run: what every scheduled run of an unchanged table does (it also deletes the
                # first re-run's `unchanged` rows from ops.push_results).
                stats = sandbox_stats(sandbox.url)
                steady_row = _row("ours, second no-change re-run", rows, rows, budget, steady, final, stats)
                steady_row["writes_sent"] = writes(stats) - writes(final)
                steady_row["leads_in_sandbox"] = leads_in(sandbox.url)
                out.append(steady_row)
                continue
            sent_rows = args.single_lead_rows if mode == "sdk-single" else rows
            command = [str(SDK_PYTHON), str(ROOT / "bench" / "sdk_push.py"), mode.removeprefix("sdk-"),
                       "--url", sandbox.url, "--campaign", campaign, "--csv", str(csv),
                       "--rows", str(sent_rows), "--rate-per-second", str(budget)]  # fmt: skip
            try:
                (result,) = run_child(command, timeout + sent_rows * 0.2)
            except ChildFailedError as exc:  # a comparison that breaks is a result too: record how
                out.append({"mode": mode, "rows": rows, "budget": budget, "error": str(exc)[:300],
                            "leads_in_sandbox": leads_in(sandbox.url)})  # fmt: skip
                continue
            result["push_seconds"] = result["seconds"]
            result["extract_seconds"] = 0.0
            after = sandbox_stats(sandbox.url)
            row = _row(mode, rows, sent_rows, budget, result, before, after)
            row["sandbox_cpu_seconds"] = round(cpu_seconds(sandbox.pid) - cpu_before, 1)
            row["leads_in_sandbox"] = leads_in(sandbox.url)
            out.append(row)
    return out


def _row(
    mode: str,
    rows: int,
    sent_rows: int,
    budget: float,
    r: dict[str, Any],
    before: dict[str, Any],
    after: dict[str, Any],
) -> dict[str, Any]:
    requests = int(r["requests"])
    seconds = float(r["push_seconds"])
    limited = int(after.get("rate_limited", 0)) - int(before.get("rate_limited", 0))
    scale = rows / sent_rows if sent_rows else 1.0
    ideal = rows / LEADS_PER_ADD / budget + float(r.get("extract_seconds", 0.0))
    wall = float(r.get("seconds", seconds)) * scale
    return {
        "mode": mode + (f" (ran {sent_rows:,}, extrapolated x{scale:g})" if scale != 1 else ""),
        "rows": rows,
        "budget": budget,
        "wall_seconds": round(wall, 1),
        "extract_seconds": r.get("extract_seconds", 0.0),
        "push_seconds": round(seconds * scale, 1),
        "leads_per_second": round(sent_rows / seconds) if seconds else 0,
        "requests": round(requests * scale),
        "budget_used_pct": round(100 * requests / (seconds * budget), 1) if seconds and requests else 0.0,
        "rate_limited": limited,
        "rate_limited_pct": round(100 * limited / (requests + limited), 2) if requests else 0.0,
        "peak_rss_mb": r.get("peak_rss_mb"),
        "client_cpu_seconds": round(float(r.get("cpu_seconds", 0.0)) * scale, 1),
        "wall_vs_ideal": round(wall / ideal, 2) if requests else None,
        "push_cpu_seconds": r.get("push_cpu_seconds"),  # ours: the push alone, and the sandbox meanwhile
        "sandbox_push_cpu_seconds": r.get("sandbox_push_cpu_seconds"),
        "machine_busy_pct": _machine_busy(r),
        "counts": r.get("counts"),
    }


def _machine_busy(r: dict[str, Any]) -> float | None:
    """How busy the machine's cores were during our push: (the push's CPU seconds + the sandbox's) /
    (cores x push seconds), in %. Near 100, the budget cannot be kept busy: the two processes share the cores
    (the sandbox stands in for a server that runs elsewhere). None for the SDK runs."""
    if "push_cpu_seconds" not in r or not r.get("push_seconds"):
        return None
    cpu = float(r["push_cpu_seconds"]) + float(r["sandbox_push_cpu_seconds"])
    return round(100 * cpu / ((os.cpu_count() or 1) * float(r["push_seconds"])), 1)


def print_table(results: list[dict[str, Any]], latency: float) -> None:
    print(
        f"\nPush at {LEADS_PER_ADD} leads per request, latency {latency:g} ms (sandbox rate limit = budget)"
    )
    head = f"{'mode':52} {'rows':>9} {'req/s':>5} {'wall s':>8} {'leads/s':>8} {'budget %':>8} {'429s':>5}"
    print(head + f" {'RSS MB':>7} {'CPU s':>6} {'x ideal':>7} {'busy %':>6}")
    for r in results:
        if "error" in r:
            print(f"{r['mode']:52} {r['rows']:>9,} {r['budget']:>5g}  FAILED: {r['error'][:80]}")
            continue
        print(
            f"{r['mode']:52} {r['rows']:>9,} {r['budget']:>5g} {r['wall_seconds']:>8} {r['leads_per_second']:>8,}"
            f" {r['budget_used_pct']:>8} {r['rate_limited']:>5} {r['peak_rss_mb'] or '':>7}"
            f" {r['client_cpu_seconds']:>6} {r['wall_vs_ideal'] or '':>7} {r.get('machine_busy_pct') or '':>6}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--budgets", type=float, nargs="+", default=[20, 100], help="requests per second")
    parser.add_argument("--latency-ms", type=float, default=250)
    parser.add_argument("--sdk-max-rows", type=int, default=100_000, help="largest N for the SDK runs")
    parser.add_argument("--single-lead-rows", type=int, default=100, help="N for POST /leads (0: skip)")
    parser.add_argument("--out", type=Path, default=None, help="JSON results file (default: bench/results/)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--csv", help=argparse.SUPPRESS)
    parser.add_argument("--warehouse", help=argparse.SUPPRESS)
    parser.add_argument("--campaign", help=argparse.SUPPRESS)
    parser.add_argument("--base-url", help=argparse.SUPPRESS)
    parser.add_argument("--rate-per-second", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--rerun", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--sandbox-pid", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    if not SDK_PYTHON.exists():
        print(f"note: {SDK_PYTHON.relative_to(ROOT)} is missing, so the SDK comparison is skipped "
              "(`make bench-sdk-venv` creates it)")  # fmt: skip

    results: list[dict[str, Any]] = []
    out = args.out or RESULTS / f"bench_push-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    with tempfile.TemporaryDirectory(prefix="bench-push-") as tmp_name:
        tmp = Path(tmp_name)
        for rows in args.rows:
            csv = write_csv(tmp / f"leads-{rows}.csv", rows)
            for budget in args.budgets:
                load = os.getloadavg()
                for row in one_budget(args, csv, rows, budget, tmp):
                    row["load_average_before"] = [round(x, 1) for x in load]
                    results.append(row)
                print_table(results[-5:], args.latency_ms)
                save(args, results, out)  # after each budget: a long run that breaks keeps what it measured
    print_table(results, args.latency_ms)
    print(f"wrote {out}")


def save(args: argparse.Namespace, results: list[dict[str, Any]], out: Path) -> None:
    report = {
        **environment(),
        "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items() if v is not None},
        "results": results,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
