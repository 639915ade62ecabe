"""How long the CLI takes to answer: wall seconds of `./ops ...` commands against a sandbox in its own process.

Not a test: it prints a table and writes `bench/results/cli_timings-*.json`; the figures go to bench/README.md.
Each command runs `--repeat` times (default 5) in a fresh process, as a user would type it, with
INSTANTLY_API_KEY and INSTANTLY_BASE_URL pointing at the sandbox and no PREFECT_API_URL (so a flow starts
Prefect's temporary API, in a PREFECT_HOME of its own that the repeats share). Commands that run a flow are
also timed to their first output: they run in a pseudo-terminal, as in a shell, so a progress display shows.

Targets (issue 14): `--help` and `campaigns list` under 1.5 s, `push --dry-run` of a small file under 3 s,
a flow-running command's first output within 5 s.

    .venv/bin/python bench/cli_timings.py             # or: make bench-cli
    .venv/bin/python bench/cli_timings.py --repeat 3 --only help list
"""

from __future__ import annotations

import argparse
import json
import os
import pty
import re
import resource
import select
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import RESULTS, ROOT, SCHEDULE, environment, sandbox_process  # noqa: E402

OPS = str(ROOT / "ops")
CAMPAIGN = "Bench campaign"
LEADS_CSV = ROOT / "examples" / "leads.csv"
# Terminal control sequences (cursor moves, hide/show, colours): output, but nothing a user can read.
CONTROL = re.compile(rb"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07]*\x07|[\r\n\t ]")


@dataclass
class Timing:
    name: str
    argv: list[str]
    target_s: float | None
    runs_s: list[float] = field(default_factory=list)
    cpu_s: list[float] = field(default_factory=list)
    first_output_s: list[float] = field(default_factory=list)
    exit_codes: list[int] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.runs_s)

    @property
    def cpu(self) -> float:
        return statistics.median(self.cpu_s)

    @property
    def first_output(self) -> float | None:
        return statistics.median(self.first_output_s) if self.first_output_s else None


def commands() -> list[tuple[str, list[str], float | None, bool]]:
    """(name, argv after ./ops, target seconds, runs a flow): what a user types, in the README's order."""
    csv = str(LEADS_CSV)
    return [
        ("help", ["--help"], 1.5, False),
        ("campaigns --help", ["campaigns", "--help"], 1.5, False),
        ("list", ["campaigns", "list"], 1.5, False),
        ("show", ["campaigns", "show", CAMPAIGN], 1.5, False),
        ("accounts", ["accounts"], 1.5, False),
        ("check", ["campaigns", "check", CAMPAIGN], 1.5, False),
        ("connections", ["connections"], 1.5, False),
        ("dry-run", ["push", "--source", csv, "--campaign", CAMPAIGN, "--dry-run"], 3.0, False),
        ("push", ["push", "--source", csv, "--campaign", CAMPAIGN], None, True),
        ("sync", ["sync"], None, True),
    ]


def children_cpu() -> float:
    """CPU seconds (user + system) of every finished child process so far, theirs included."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_plain(argv: list[str], env: dict[str, str], cwd: Path) -> tuple[float, int]:
    """Wall seconds from start to exit, output discarded."""
    start = time.perf_counter()
    done = subprocess.run([OPS, *argv], env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        print(
            f"  ./ops {' '.join(argv)} exited {done.returncode}: {done.stderr.decode()[-300:]}",
            file=sys.stderr,
        )
    return elapsed, done.returncode


def run_in_terminal(argv: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float, int]:
    """(seconds to the first readable output, seconds to exit, exit code) in a pseudo-terminal."""
    master, slave = pty.openpty()
    start = time.perf_counter()
    proc = subprocess.Popen(
        [OPS, *argv], env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=slave, stderr=slave
    )
    os.close(slave)
    first: float | None = None
    output = b""
    while True:
        ready, _, _ = select.select([master], [], [], 0.05)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the child closed the terminal
                chunk = b""
            if chunk:
                output += chunk
                if first is None and CONTROL.sub(b"", output):
                    first = time.perf_counter() - start
                continue
            break  # end of output: every holder of the terminal (the command) has exited
        if proc.poll() is not None:
            break
    proc.wait()
    elapsed = time.perf_counter() - start
    os.close(master)
    if proc.returncode != 0:
        print(f"  ./ops {' '.join(argv)} exited {proc.returncode}: {output.decode(errors='replace')[-300:]}")
    return (first if first is not None else elapsed), elapsed, proc.returncode


def prepare(sandbox_url: str, api_key: str) -> None:
    """One campaign with a sender for the commands to find (the sandbox seeds the sending accounts)."""
    headers = {"Authorization": f"Bearer {api_key}"}
    base = f"{sandbox_url}/api/v2"
    with httpx.Client(headers=headers, timeout=30) as http:
        sender = http.get(f"{base}/accounts", params={"limit": 1}).json()["items"][0]["email"]
        body = {"name": CAMPAIGN, "campaign_schedule": SCHEDULE, "email_list": [sender]}
        body["sequences"] = [
            {"steps": [{"type": "email", "delay": 0, "variants": [{"subject": "Hi", "body": "Hello"}]}]}
        ]
        http.post(f"{base}/campaigns", json=body).raise_for_status()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=5, help="runs of each command (the median is reported)")
    parser.add_argument("--only", nargs="*", help="names of the commands to time (default: all)")
    args = parser.parse_args()

    load_before = os.getloadavg()
    work = Path(tempfile.mkdtemp(prefix="ops-cli-timings-"))
    timings: list[Timing] = []
    try:
        with sandbox_process(1000, server_rate_per_minute=60_000) as sandbox:
            prepare(sandbox.url, sandbox.api_key)
            env = {
                k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "OPS_", "INSTANTLY_"))
            }
            env |= {
                "INSTANTLY_API_KEY": sandbox.api_key,
                "INSTANTLY_BASE_URL": sandbox.base_url,
                "OPS_WAREHOUSE": str(work / "warehouse.duckdb"),
                "PREFECT_HOME": str(work / "prefect-home"),
                "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
                "TERM": "xterm-256color",
            }
            for name, argv, target, runs_flow in commands():
                if args.only and name not in args.only:
                    continue
                timing = Timing(name, argv, target)
                for _ in range(args.repeat):
                    cpu_before = children_cpu()
                    if runs_flow:
                        first, elapsed, code = run_in_terminal(argv, env, work)
                        timing.first_output_s.append(round(first, 3))
                    else:
                        elapsed, code = run_plain(argv, env, work)
                    timing.runs_s.append(round(elapsed, 3))
                    timing.cpu_s.append(round(children_cpu() - cpu_before, 3))
                    timing.exit_codes.append(code)
                timings.append(timing)
                first_text = f", first output {timing.first_output:.2f} s" if timing.first_output else ""
                print(
                    f"{name:18} median {timing.median:6.2f} s{first_text}  runs {timing.runs_s}", flush=True
                )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    load_after = os.getloadavg()

    print()
    print("| command | median s | min s | CPU median s | first output s | target | exit codes |")
    print("| --- | ---: | ---: | ---: | ---: | --- | --- |")
    for t in timings:
        target = f"< {t.target_s:g} s" if t.target_s else "first output < 5 s"
        first = f"{t.first_output:.2f}" if t.first_output is not None else ""
        codes = ",".join(str(c) for c in sorted(set(t.exit_codes)))
        command = " ".join(t.argv).replace(str(LEADS_CSV), "examples/leads.csv")
        print(
            f"| `./ops {command}` | {t.median:.2f} | {min(t.runs_s):.2f} | {t.cpu:.2f} | {first} | {target} | {codes} |"
        )
    print(f"\nload average before {load_before[0]:.2f}, after {load_after[0]:.2f}; {args.repeat} runs each")

    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    record = {
        **environment(),
        "commit": commit.stdout.strip(),
        "load_before": load_before,
        "load_after": load_after,
        "repeat": args.repeat,
        "timings": [
            asdict(t) | {"median_s": t.median, "cpu_median_s": t.cpu, "first_output_median_s": t.first_output}
            for t in timings
        ],
    }
    out = RESULTS / f"cli_timings-{stamp}.json"
    out.write_text(json.dumps(record, indent=2))
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
