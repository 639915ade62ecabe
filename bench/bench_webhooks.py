"""Benchmark the webhook receiver: a steady delivery rate on loopback, lost events and answer latency.

Starts `ops-instantly webhooks listen` as its own process (as in production), then sends Instantly-shaped
deliveries at a fixed rate (open loop: each one leaves at its scheduled time whatever the answers before it
did, so a slow receiver shows as latency, not as a lower rate) from P sender processes. Afterwards it stops
the receiver (SIGTERM: the last segment closes), reads the spool and ingests it into a fresh DuckDB file
with the real ingest task, and reports:

- lost: deliveries answered 200 whose payload is not in the spool or not in instantly.webhook_events (must
  be 0);
- p50 / p99 / max latency of the 200 answers (from the request leaving to the answer), and the sender lag
  (how late requests left their schedule: if it grows, the senders, not the receiver, were the limit).

Example:
    .venv/bin/python bench/bench_webhooks.py --rate 1000 --seconds 30 --senders 2
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._common import RESULTS, environment  # noqa: E402

SECRET = "bench-secret"
HEADER = "X-Ops-Instantly-Secret"
CONNECTIONS = 64  # per sender process: enough in flight for 50 ms answers at 1,000/s


def payload(sender: int, n: int) -> dict[str, object]:
    """A reply_received delivery shaped like DOC-WH's, about 1 KB, unique per (sender, n)."""
    return {
        "timestamp": datetime.now(UTC).isoformat(),
        "event_type": "reply_received",
        "workspace": "019a0000-0000-7000-8000-000000000001",
        "campaign_id": "019a0000-0000-7000-8000-000000000002",
        "campaign_name": "Bench",
        "lead_email": f"lead{n}@sender{sender}.example.com",
        "email_account": "ava@outreach-sandbox.io",
        "step": 1,
        "variant": 1,
        "is_first": True,
        "email_id": f"bench-{sender}-{n}",
        "reply_subject": "Re: quick question",
        "reply_text": "Sounds good, let's talk Tuesday. " * 20,
        "bench_id": f"{sender}-{n}",
    }


async def _send(
    url: str, sender: int, rate: float, seconds: float, out: list[tuple[str, int, float, float]]
) -> None:
    """Open-loop sender over persistent HTTP/1.1 connections with pre-encoded requests.

    httpx's async pool spends more CPU per request than the receiver does (measured: the senders, not the
    receiver, set the pace), so the bench writes requests on raw asyncio streams and reads the status line,
    the headers and the Content-Length body of each answer: a load generator, not a client.
    """
    parts = urlsplit(url)
    host, port, path = parts.hostname or "127.0.0.1", parts.port or 80, parts.path
    total = int(rate * seconds)
    jobs: asyncio.Queue[tuple[int, float] | None] = asyncio.Queue()

    async def connection() -> None:
        reader, writer = await asyncio.open_connection(host, port)
        while (job := await jobs.get()) is not None:
            n, due = job
            body = json.dumps(payload(sender, n)).encode()
            head = (
                f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
                f"{HEADER}: {SECRET}\r\nContent-Length: {len(body)}\r\n\r\n"
            ).encode()
            sent = time.perf_counter()
            status = 0
            try:
                writer.write(head + body)
                status_line = await reader.readline()
                status = int(status_line.split()[1])
                length = 0
                while (line := await reader.readline()) not in (b"\r\n", b""):
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                await reader.readexactly(length)
            except (OSError, ValueError, IndexError, asyncio.IncompleteReadError):
                reader, writer = await asyncio.open_connection(host, port)
            out.append((f"{sender}-{n}", status, (time.perf_counter() - sent) * 1000, (sent - due) * 1000))
        writer.close()

    workers = [asyncio.create_task(connection()) for _ in range(CONNECTIONS)]
    start = time.perf_counter() + 0.5
    for n in range(total):
        due = start + n / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        jobs.put_nowait((n, due))
    for _ in workers:
        jobs.put_nowait(None)
    await asyncio.gather(*workers)


def _sender(url: str, sender: int, rate: float, seconds: float, queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    out: list[tuple[str, int, float, float]] = []
    asyncio.run(_send(url, sender, rate, seconds, out))
    queue.put(out)


def start_receiver(spool: Path) -> tuple[subprocess.Popen[str], str]:
    env = {**os.environ, "OPS_WEBHOOK_SECRET": SECRET}
    exe = str(Path(sys.executable).with_name("ops-instantly"))
    cmd = [exe, "webhooks", "listen", "--port", "0", "--spool", str(spool)]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    found = re.search(r"Listening on (\S+)", line)
    if not found:
        proc.kill()
        raise SystemExit(f"the receiver did not start: {line!r}")
    return proc, found.group(1)


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], q: float) -> float:
    return (
        statistics.quantiles(values, n=1000, method="inclusive")[int(q * 10) - 1] if len(values) > 1 else 0.0
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=1000, help="deliveries per second (all senders)")
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--senders", type=int, default=2, help="sender processes sharing the rate")
    args = parser.parse_args()

    from tasks.webhook_events import ingest_spool
    from warehouse.db import Warehouse
    from webhooks.spool import read_segment, ready_segments

    work = Path(tempfile.mkdtemp(prefix="bench-webhooks-"))
    spool = work / "spool"
    receiver, url = start_receiver(spool)
    load_before = os.getloadavg()[0]
    try:
        queue: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
        senders = [
            multiprocessing.Process(
                target=_sender, args=(url, s, args.rate / args.senders, args.seconds, queue)
            )
            for s in range(args.senders)
        ]
        cpu_before = cpu_seconds(receiver.pid)
        began = time.perf_counter()
        for p in senders:
            p.start()
        results: list[tuple[str, int, float, float]] = []
        for _ in senders:
            results += queue.get()
        for p in senders:
            p.join()
        wall = time.perf_counter() - began
        receiver_cpu = cpu_seconds(receiver.pid) - cpu_before
    finally:
        receiver.send_signal(signal.SIGTERM)
        receiver.wait(timeout=30)
    load_after = os.getloadavg()[0]

    acked = {bench_id for bench_id, status, _, _ in results if status == 200}
    spooled = {
        str(p.get("bench_id")) for path in ready_segments(spool) for _, p in read_segment(path).records
    }
    warehouse = Warehouse(work / "warehouse.duckdb")
    started = time.perf_counter()
    counts = ingest_spool.fn(warehouse, spool, run_id="bench", keep_done_days=1)
    ingest_seconds = time.perf_counter() - started
    with warehouse.connect(read_only=True) as con:
        stored = {
            row[0]
            for row in con.execute("SELECT payload->>'bench_id' FROM instantly.webhook_events").fetchall()
        }

    latencies = [ms for _, status, ms, _ in results if status == 200]
    lags = [lag for _, _, _, lag in results]
    report = {
        **environment(),
        "load_average_before_after": [round(load_before, 2), round(load_after, 2)],
        "rate": args.rate,
        "seconds": args.seconds,
        "senders": args.senders,
        "sent": len(results),
        "answered_200": len(acked),
        "other_answers": len(results) - len(acked),
        "achieved_rate": round(len(results) / wall, 1),
        "lost_from_spool": len(acked - spooled),
        "lost_from_warehouse": len(acked - stored),
        "latency_ms_p50": round(statistics.median(latencies), 2) if latencies else None,
        "latency_ms_p99": round(percentile(latencies, 99), 2),
        "latency_ms_max": round(max(latencies), 2) if latencies else None,
        "receiver_cpu_ms_per_event": round(1000 * receiver_cpu / max(len(results), 1), 3),
        "sender_lag_ms_p99": round(percentile(lags, 99), 2),
        "segments": counts.segments,
        "ingest_events_per_second": round(counts.events / ingest_seconds) if ingest_seconds else None,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"webhooks-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    out.write_text(json.dumps(report, indent=2))
    width = max(len(k) for k in report)
    for key, value in report.items():
        print(f"{key:<{width}}  {value}")
    print(f"written to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
