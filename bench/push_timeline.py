"""The timeline of one push: where a push at a high budget loses its budget (a diagnostic, not a benchmark).

Starts a sandbox process (rate limit = the budget, added latency), extracts N generated leads (the CSV of
bench_push.py) and runs one `CampaignPush` in this process, recording every answered request (when it
started and ended) and every write cycle of the bookkeeper. Prints, per second of the push: requests
started, the most in flight, the fewest jobs ready for the sender (its backlog); then the first start, the
last answer and what came after it, and the write cycles that took longer than --slow seconds (when, how
long, outcomes of how many finished requests, intents of how many new ones).

It wraps two internals to see them (`StatsRecorder.record_response`, `Recorder.write`) and samples the
pass's counters from a thread, which costs some CPU: compare its runs with each other, and budget use with
bench_push.py's. Nothing is asserted. bench/README.md ("A planner thread ...") shows what it found.

Example:
    .venv/bin/python bench/push_timeline.py --rows 1000000 --budget 100
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._common import sandbox_process  # noqa: E402
from bench.bench_push import make_campaign, write_csv  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--budget", type=float, default=100, help="requests per second")
    parser.add_argument("--latency-ms", type=float, default=250)
    parser.add_argument("--slow", type=float, default=0.3, help="list write cycles longer than this (s)")
    args = parser.parse_args()

    import ops_instantly.cli  # noqa: F401  (the process settings of `ops-instantly`)
    from instantly_client import InstantlyClient
    from instantly_client._stats import StatsRecorder
    from tasks import push_pipeline, push_record
    from tasks.extract import SourceSpec, describe_source, extract_source
    from tasks.mapping import resolve_mapping
    from tasks.push_engine import CampaignPush, PushTarget
    from warehouse.db import Warehouse
    from warehouse.ledger import LedgerScope

    answers: list[tuple[float, float, str]] = []  # (started, ended, endpoint), perf_counter seconds
    cycles: list[tuple[float, float, int, int]] = []  # (began, seconds, finished requests, new jobs)
    passes: list[Any] = []
    record_response, write, init = (
        StatsRecorder.record_response,
        push_record.Recorder.write,
        push_pipeline.PushPass.__init__,
    )

    def on_response(self: Any, status: int, latency: float, endpoint: str = "") -> None:
        now = time.perf_counter()
        answers.append((now - latency, now, endpoint))
        record_response(self, status, latency, endpoint)

    def on_write(self: Any, finished: list[Any], local: list[Any], new: list[Any], **kw: Any) -> None:
        began = time.perf_counter()
        write(self, finished, local, new, **kw)
        cycles.append((began, time.perf_counter() - began, len(finished), len(new)))

    def on_init(self: Any, *a: Any, **kw: Any) -> None:
        init(self, *a, **kw)
        passes.append(self)

    StatsRecorder.record_response = on_response  # type: ignore[method-assign]
    push_record.Recorder.write = on_write  # type: ignore[method-assign]
    push_pipeline.PushPass.__init__ = on_init  # type: ignore[method-assign]

    backlog: list[tuple[float, int]] = []
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.02):
            if passes:
                backlog.append((time.perf_counter(), passes[-1]._published - passes[-1]._submitted))

    with tempfile.TemporaryDirectory() as tmp:
        csv = write_csv(Path(tmp) / "leads.csv", args.rows)
        with sandbox_process(args.budget, server_rate_per_minute=args.budget * 60) as sandbox:
            campaign = make_campaign(sandbox.url, "timeline")
            httpx.post(f"{sandbox.url}/_sandbox/faults", json={"latency_ms": args.latency_ms}, timeout=30)
            warehouse = Warehouse(Path(tmp) / "wh.duckdb")
            spec = SourceSpec(str(csv))
            mapping = resolve_mapping(describe_source.fn(spec))
            table = extract_source.fn(spec, warehouse, email_column="email", key_column=None, run_id="t")
            target = PushTarget(
                scope=LedgerScope("timeline", campaign, table.name, "t"),
                campaign_name="timeline",
                mapping=mapping,
                key_given=False,
                row_count=table.row_count,
                skip_mode="in_campaign",
            )
            with InstantlyClient(
                api_key=sandbox.api_key,
                base_url=sandbox.base_url,
                rate_per_second=args.budget,
                rate_per_minute=args.budget * 60,
                timeout=120,
            ) as client:
                threading.Thread(target=sample, daemon=True).start()
                t0 = time.perf_counter()
                report = CampaignPush(client, warehouse, target).run()
                t1 = time.perf_counter()
                done.set()
    _print(answers, cycles, backlog, t0, t1, args, dict(report.counts))


def _print(
    answers: list[tuple[float, float, str]],
    cycles: list[tuple[float, float, int, int]],
    backlog: list[tuple[float, int]],
    t0: float,
    t1: float,
    args: argparse.Namespace,
    counts: dict[str, int],
) -> None:
    spans = sorted((a - t0, b - t0) for a, b, _ in answers)
    seconds = t1 - t0
    print(f"push of {args.rows:,} leads at {args.budget:g} req/s, {args.latency_ms:g} ms: {counts}")
    print(
        f"  {seconds:.2f} s, {len(spans)} requests: {100 * len(spans) / (seconds * args.budget):.1f}% of the budget"
    )
    if not spans:
        return
    started = Counter(int(a) for a, _ in spans)
    last = int(max(b for _, b in spans))
    in_flight = [
        max(sum(1 for a, b in spans if a <= s + k / 20 < b) for k in range(20)) for s in range(last + 1)
    ]
    fewest: dict[int, int] = {}
    for at, ready in backlog:
        if at >= t0:
            fewest[int(at - t0)] = min(ready, fewest.get(int(at - t0), ready))
    print("  second           " + " ".join(f"{s:>4}" for s in range(last + 1)))
    print("  started          " + " ".join(f"{started[s]:>4}" for s in range(last + 1)))
    print("  most in flight   " + " ".join(f"{n:>4}" for n in in_flight))
    print("  fewest ready     " + " ".join(f"{fewest.get(s, 0):>4}" for s in range(last + 1)))
    end = max(b for _, b in spans)
    print(f"  first start {spans[0][0]:.2f} s, last start {spans[-1][0]:.2f} s, last answer {end:.2f} s,")
    print(f"  then {seconds - end:.2f} s to the end of the push")
    total = sum(d for _, d, _, _ in cycles)
    print(f"  {len(cycles)} write cycles, {total:.2f} s in all; longer than {args.slow:g} s:")
    for began, took, finished, new in cycles:
        if took > args.slow:
            print(f"    at {began - t0:6.2f} s: {took:.2f} s, outcomes of {finished}, intents of {new}")


if __name__ == "__main__":
    main()
