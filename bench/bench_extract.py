"""Benchmark the CSV extract: the fixed-option DuckDB reader against the row-by-row fallback (issue 12).

Writes three CSVs of N rows (nine columns, like a CRM export) and extracts each into a fresh warehouse with
the real task (`extract_source`), R times:

- `clean UTF-8`: read by DuckDB with every option fixed (the fast path);
- `UTF-8, one ragged line`: one unquoted comma near the end: DuckDB refuses the file, so Python's csv module
  reads it row by row (the bad line becomes an `invalid` row, the rest goes through);
- `cp1252`: a Windows "ANSI" export, decoded by Python (the fallback path from the start);
- `UTF-8, notes over lines`: one row in 1,000 has a quoted note over two lines with a comma in it
  (`"call back, Tue\nasked for pricing"`): DuckDB reads it, but such a cell could be lines two stray quotes
  merged, so the row-by-row reader reads the file again to tell (tasks/csv_source.py).

Reports wall-clock and CPU seconds of this process (DuckDB's threads included in CPU). Nothing is asserted.

Example:
    .venv/bin/python bench/bench_extract.py --rows 200000 --repeat 2
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._common import RESULTS, environment  # noqa: E402

HEADER = "Email,First Name,Last Name,Company,Title,Signup Date,Tags,Score,Notes\r\n"


def write_csv(path: Path, rows: int, *, ragged: bool, encoding: str, spans: bool = False) -> None:
    with path.open("w", encoding=encoding, newline="") as out:
        out.write(HEADER)
        for i in range(rows):
            company = "Reid, Inc." if ragged and i == rows - 10 else f'"O’Brien – Partners {i % 500}"'
            note = f'"call back, Tue\r\nasked for pricing {i}"' if spans and i % 1000 == 7 else f"note {i}"
            out.write(
                f"user{i}@example{i % 97}.com,Ana,O’Neil,{company},CEO,2024-01-02,ops;t{i % 5},{i},{note}\r\n"
            )


def extract_once(path: Path) -> tuple[float, float, int]:
    from tasks.extract import SourceSpec, describe_source, extract_source
    from tasks.mapping import resolve_mapping
    from warehouse.db import Warehouse

    with tempfile.TemporaryDirectory(prefix="bench-extract-") as tmp:
        warehouse = Warehouse(Path(tmp) / "w.duckdb")
        spec = SourceSpec(str(path))
        wall, cpu = time.perf_counter(), time.process_time()
        mapping = resolve_mapping(describe_source.fn(spec))
        table = extract_source.fn(
            spec, warehouse, email_column=mapping.email_column, key_column=None, run_id="b"
        )
        return time.perf_counter() - wall, time.process_time() - cpu, table.row_count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000, help="Rows per CSV.")
    parser.add_argument("--repeat", type=int, default=2, help="Extracts per case (the best is reported).")
    args = parser.parse_args()
    cases = [
        ("clean UTF-8", False, "utf-8", False),
        ("UTF-8, one ragged line", True, "utf-8", False),
        ("cp1252", False, "cp1252", False),
        ("UTF-8, notes over lines", False, "utf-8", True),
    ]
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-extract-src-") as tmp:
        for n, (name, ragged, encoding, spans) in enumerate(cases):
            path = Path(tmp) / f"case{n}_{encoding}.csv"
            write_csv(path, args.rows, ragged=ragged, encoding=encoding, spans=spans)
            runs = [extract_once(path) for _ in range(args.repeat)]
            wall, cpu, rows = min(runs)
            results.append({"case": name, "rows": rows, "wall_s": round(wall, 2), "cpu_s": round(cpu, 2)})
    print(f"{'case':<26} {'rows':>9} {'wall s':>8} {'cpu s':>8}")
    for r in results:
        print(f"{r['case']:<26} {r['rows']:>9,} {r['wall_s']:>8.2f} {r['cpu_s']:>8.2f}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"extract-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    meta = {**environment(), "rows": args.rows}
    out.write_text(json.dumps({"meta": meta, "results": results}, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
