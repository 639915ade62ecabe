"""Benchmark push and sync throughput on the two warehouse backends: a DuckDB file and a DuckLake on Postgres.

Same machine, same run, same sandbox (its own process, budget enforced), same flows: for each backend a fresh
warehouse (a new file; a new catalog database on the local Postgres with its data in a temp folder), then

- `push_leads` of N generated leads (CSV) to a new campaign: extract, ledger, 1,000 leads a request
  (`skip_if=none`: every backend pushes the same leads, each to its own campaign);
- the same push again (nothing changed: the ledger decides, no write is sent);
- `sync_engagement` after simulated days of sending: campaigns, N leads, analytics, replies merged.

Prints a table (seconds and rows a second per step) and writes bench/results/ducklake-<time>.json. Not a
test: nothing here asserts a timing (tests/bench/test_bench_ducklake_smoke.py runs a small one for
correctness). Needs Postgres at 127.0.0.1:5432 (user postgres, trust) for the DuckLake side.

Example:
    .venv/bin/python bench/bench_ducklake.py                  # 20,000 leads, 100 req/s budget
    .venv/bin/python bench/bench_ducklake.py --rows 5000 --backends file ducklake
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

os.environ.setdefault("PREFECT_HOME", tempfile.mkdtemp(prefix="bench-ducklake-prefect-"))
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "ERROR")
os.environ.pop("PREFECT_API_URL", None)

import httpx  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._common import RESULTS, SCHEDULE, environment, sandbox_process  # noqa: E402
from bench.bench_push import write_csv  # noqa: E402

ADMIN_URL = os.environ.get("OPS_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def new_lake(folder: Path) -> tuple[str, str]:
    """A new catalog database on the local Postgres; returns (its name, the DuckLake URL)."""
    import psycopg

    name = f"ops_bench_lake_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as con:
        con.execute(f'CREATE DATABASE "{name}"')
    os.environ["OPS_WAREHOUSE_DATA_PATH"] = str(folder / "lake-data")
    return name, f"ducklake:postgres:dbname={name} host=127.0.0.1 port=5432 user=postgres"


def drop_lake(name: str) -> None:
    import psycopg

    from warehouse.db import close_lakes

    close_lakes()
    with psycopg.connect(ADMIN_URL, autocommit=True) as con:
        con.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def one_backend(
    backend: str, base_url: str, sandbox_url: str, csv_path: Path, rows: int
) -> list[dict[str, Any]]:
    """Push, re-push and sync on a fresh warehouse of `backend`; one result row per step."""
    from flows.push_leads import push_leads
    from flows.sync_engagement import sync_engagement
    from instantly_client import InstantlyClient

    folder = Path(tempfile.mkdtemp(prefix=f"bench-ducklake-{backend}-"))
    lake_db = None
    if backend == "ducklake":
        lake_db, location = new_lake(folder)
    else:
        location = str(folder / "warehouse.duckdb")
    with InstantlyClient(api_key="sandbox-key", base_url=base_url) as client:
        name = f"bench-{backend}-{uuid.uuid4().hex[:6]}"
        campaign = client.campaigns.create({"name": name, "campaign_schedule": SCHEDULE})
    results = []
    try:

        def step(label: str, run: Any, count: int) -> dict[str, Any]:
            load = os.getloadavg()[0]
            started = time.perf_counter()
            outcome = run()
            seconds = time.perf_counter() - started
            row = {
                "backend": backend,
                "step": label,
                "rows": count,
                "seconds": round(seconds, 2),
                "rows_per_second": round(count / seconds, 1) if seconds else None,
                "load_average_1min_at_start": round(load, 1),
            }
            results.append(row)
            return outcome  # type: ignore[no-any-return]

        pushed = step(
            "push",
            lambda: push_leads(
                source=str(csv_path), campaigns=[campaign.id], warehouse=location, skip_if="none"
            ),
            rows,
        )
        again = step(
            "push again (no change)",
            lambda: push_leads(
                source=str(csv_path), campaigns=[campaign.id], warehouse=location, skip_if="none"
            ),
            rows,
        )
        with InstantlyClient(api_key="sandbox-key", base_url=base_url) as client:
            client.campaigns.activate(campaign.id)
        httpx.post(f"{sandbox_url}/_sandbox/advance", json={"days": 7}, timeout=600).raise_for_status()
        synced = step("sync", lambda: sync_engagement(warehouse=location, campaigns=[campaign.id]), rows)
        results[0]["outcomes"] = _outcomes(pushed)
        results[1]["outcomes"] = _outcomes(again)
        results[2]["leads_inserted"] = synced.counts["leads"]["inserted"]
    finally:
        if lake_db:
            drop_lake(lake_db)
    return results


def _outcomes(summary: Any) -> dict[str, int]:
    """{outcome: rows} of a one-table push summary, every campaign together."""
    totals: dict[str, int] = {}
    for campaign in summary.get("campaigns") or []:
        for outcome, n in campaign["counts"].items():
            totals[outcome] = totals.get(outcome, 0) + int(n)
    return totals


def run(rows: int, backends: list[str], budget: float) -> list[dict[str, Any]]:
    """Every backend against one sandbox process, in the order given (the same leads, skip_if none)."""
    from prefect import flow

    flow(name="bench-warm-up")(lambda: None)()  # Prefect's temporary API starts here, not in the first push
    os.environ["INSTANTLY_RATE_PER_SECOND"] = str(budget)
    with tempfile.TemporaryDirectory(prefix="bench-ducklake-") as tmp:
        csv_path = write_csv(Path(tmp) / "leads.csv", rows)
        with sandbox_process(budget) as sandbox:
            os.environ["INSTANTLY_API_KEY"] = sandbox.api_key
            os.environ["INSTANTLY_BASE_URL"] = sandbox.base_url
            results = []
            for backend in backends:
                results += one_backend(backend, sandbox.base_url, sandbox.url, csv_path, rows)
    return results


def print_table(results: list[dict[str, Any]]) -> None:
    print(f"{'backend':<10} {'step':<24} {'rows':>8} {'seconds':>8} {'rows/s':>9} {'load':>5}")
    for r in results:
        print(
            f"{r['backend']:<10} {r['step']:<24} {r['rows']:>8} {r['seconds']:>8} "
            f"{r['rows_per_second'] or '':>9} {r['load_average_1min_at_start']:>5}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000, help="leads in the pushed table")
    parser.add_argument("--backends", nargs="+", default=["file", "ducklake"], choices=["file", "ducklake"])
    parser.add_argument("--budget", type=float, default=100, help="requests a second (sandbox and client)")
    args = parser.parse_args()
    started = datetime.now(UTC)
    results = run(args.rows, args.backends, args.budget)
    print_table(results)
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"ducklake-{started:%Y%m%dT%H%M%S}.json"
    meta = {
        "started": started.isoformat(),
        **environment(),
        "rows": args.rows,
        "budget": args.budget,
    }
    out.write_text(json.dumps({"meta": meta, "results": results}, indent=2, default=str))
    print(f"written to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
