"""Benchmark how soon `ops-instantly push` refuses a bad setting on a large file (issue 16: under 2 s).

Writes a CSV of N rows, then runs the real command (a new process each time, as a user would) R times per
case and reports wall-clock and CPU seconds of the command:

- `bad rate`: INSTANTLY_RATE_PER_SECOND=abc (checked before Prefect is even imported);
- `unknown campaign`: a campaign name the sandbox does not have (resolved before the source is read).

The CPU figure is the one to compare between machines: the wall-clock one depends on what else runs. Every
run must fail with the expected one-line error and leave no warehouse file (nothing was extracted).

Example:
    .venv/bin/python bench/bench_fail_fast.py --rows 200000 --repeat 5
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

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._common import RESULTS, environment, sandbox_process  # noqa: E402

COMMAND = [str(ROOT / ".venv" / "bin" / "ops-instantly"), "push"]


def write_csv(path: Path, rows: int) -> None:
    with path.open("w") as out:
        out.write("email,first_name,company\n")
        for i in range(rows):
            out.write(f"p{i}@example{i % 500}.com,P{i},Co{i % 500}\n")


def run_once(args: list[str], env: dict[str, str], expect: str, warehouse: Path) -> tuple[float, float]:
    """Wall and CPU seconds of one failing run; exits if it did not fail as expected."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(COMMAND + args, env=env, capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode == 0 or expect not in done.stderr or warehouse.exists():
        raise SystemExit(f"unexpected result: rc={done.returncode} stderr={done.stderr!r}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000, help="Rows in the CSV.")
    parser.add_argument("--repeat", type=int, default=5, help="Runs per case.")
    opts = parser.parse_args()

    results = []
    with tempfile.TemporaryDirectory(prefix="bench-fail-fast-") as tmp, sandbox_process(100) as sandbox:
        source = Path(tmp) / "big.csv"
        write_csv(source, opts.rows)
        warehouse = Path(tmp) / "w.duckdb"
        base = {
            **os.environ,
            "INSTANTLY_API_KEY": sandbox.api_key,
            "INSTANTLY_BASE_URL": sandbox.base_url,
            "PREFECT_API_URL": "http://127.0.0.1:9/api",  # reaching Prefect would be a different error
        }
        cases = [
            ("bad rate", {"INSTANTLY_RATE_PER_SECOND": "abc"}, "Anything", "INSTANTLY_RATE_PER_SECOND='abc'"),
            ("unknown campaign", {}, "No such campaign", "Unknown campaign 'No such campaign'"),
        ]
        for name, extra, campaign, expect in cases:
            args = ["--source", str(source), "--campaign", campaign, "--warehouse", str(warehouse)]
            runs = [run_once(args, {**base, **extra}, expect, warehouse) for _ in range(opts.repeat)]
            walls, cpus = sorted(w for w, _ in runs), sorted(c for _, c in runs)
            results.append(
                {
                    "case": name,
                    "rows": opts.rows,
                    "wall_median_s": round(walls[len(walls) // 2], 3),
                    "wall_max_s": round(walls[-1], 3),
                    "cpu_median_s": round(cpus[len(cpus) // 2], 3),
                }
            )

    load = os.getloadavg()[0]
    print(f"push of {opts.rows:,} rows refused before the extract ({opts.repeat} runs each, load {load:.1f})")
    print(f"{'case':<18} {'wall median':>12} {'wall max':>9} {'CPU median':>11}")
    for r in results:
        print(
            f"{r['case']:<18} {r['wall_median_s']:>11.2f}s {r['wall_max_s']:>8.2f}s {r['cpu_median_s']:>10.2f}s"
        )
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"fail_fast_{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    out.write_text(
        json.dumps(
            {**environment(), "results": results},
            indent=2,
        )
    )
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
