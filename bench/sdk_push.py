"""The comparison pushes, with the published `instantlyai` SDK from PyPI (runs in its own bench venv).

Not part of the project: this file imports only the standard library and `instantlyai`, and runs with the
bench SDK venv's Python (`make bench-sdk-venv` creates bench/.venv-sdk with instantlyai pinned). It reads
the benchmark CSV with the csv module, maps each row to a lead the way a hand-written script would, and
sends them to one campaign in one of three ways:

- `sequential`: `client.leads.bulk_add(...)` of 1,000 leads at a time, one after another;
- `gather`: `AsyncInstantly`, every bulk add at once under `asyncio.gather` (the SDK paces to its
  `requests_per_minute`);
- `single`: `client.leads.create(...)` (POST /leads) one lead at a time with a 100 ms pause, the loop many
  scripts start with (run on a small N; the caller extrapolates).

Prints one JSON line: seconds, requests, leads sent, this process's CPU seconds and peak RSS (the caller
reads 429s from the sandbox).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import resource
import time
from typing import Any

LEADS_PER_ADD = 1000  # SPEC POST /leads/add maxItems


def leads(path: str, limit: int | None) -> list[dict[str, Any]]:
    out = []
    with open(path, newline="", encoding="utf-8") as fh:
        for i, row in enumerate(csv.DictReader(fh)):
            if limit is not None and i >= limit:
                break
            out.append(
                {
                    "email": row["email"].strip().lower(),
                    "first_name": row["first_name"],
                    "last_name": row["last_name"],
                    "company_name": row["company"],
                    "job_title": row["job_title"],
                    "website": row["website"],
                    "custom_variables": {"segment": row["segment"], "score": row["score"]},
                }
            )
    return out


def chunks(items: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    return [items[i : i + LEADS_PER_ADD] for i in range(0, len(items), LEADS_PER_ADD)]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("mode", choices=["sequential", "gather", "single"])
    parser.add_argument("--url", required=True, help="sandbox root URL (the SDK adds /api/v2)")
    parser.add_argument("--campaign", required=True)
    parser.add_argument("--csv", required=True)
    parser.add_argument("--rows", type=int, default=None, help="only the first N rows")
    parser.add_argument("--rate-per-second", type=float, required=True, help="budget (SDK: per minute x 60)")
    args = parser.parse_args()

    from instantlyai import AsyncInstantly, Instantly  # the bench venv's package, not the project's

    items = leads(args.csv, args.rows)
    rpm = args.rate_per_second * 60
    key = "sandbox-key"
    started = time.perf_counter()
    if args.mode == "sequential":
        with Instantly(key, base_url=args.url, requests_per_minute=rpm) as client:
            for chunk in chunks(items):
                client.leads.bulk_add(leads=chunk, campaign_id=args.campaign, skip_if_in_campaign=True)  # type: ignore[arg-type]
        requests = len(chunks(items))
    elif args.mode == "gather":

        async def run() -> int:
            async with AsyncInstantly(key, base_url=args.url, requests_per_minute=rpm) as client:
                calls = [
                    client.leads.bulk_add(leads=chunk, campaign_id=args.campaign, skip_if_in_campaign=True)  # type: ignore[arg-type]
                    for chunk in chunks(items)
                ]
                await asyncio.gather(*calls)
            return len(calls)

        requests = asyncio.run(run())
    else:
        with Instantly(key, base_url=args.url, requests_per_minute=rpm) as client:
            for lead in items:
                body = {k: v for k, v in lead.items() if k != "custom_variables"}
                client.leads.create(campaign=args.campaign, **body)
                time.sleep(0.1)
        requests = len(items)
    seconds = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(
        json.dumps(
            {
                "seconds": round(seconds, 2),
                "requests": requests,
                "leads": len(items),
                "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 2),
                "peak_rss_mb": round(usage.ru_maxrss / 1024),
            }
        )
    )


if __name__ == "__main__":
    main()
