"""Copy a CSV into a Postgres table, to try `push --source postgresql://...` on a fresh machine.

README's quick start runs it before pushing from Postgres:

    .venv/bin/python -m ops_instantly.example_table examples/leads.csv \
        postgresql://postgres@127.0.0.1:5432/test crm_leads

Shapes: every CSV column becomes a `text` column of the same name; the table is replaced (dropped and created).
Errors: a missing file or an unreachable server prints one line (the password redacted) and exits 1.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

from ops_core.errors import OpsError, first_line
from ops_core.urls import redact_url


def load_csv(csv_path: Path, url: str, table: str) -> int:
    """Replace Postgres table `table` at `url` with the rows of `csv_path` (all text); return the row count."""
    import psycopg
    from psycopg import sql

    try:
        with csv_path.open(newline="", encoding="utf-8") as handle:
            header, *rows = list(csv.reader(handle))
    except (OSError, ValueError) as exc:
        raise OpsError(f"Cannot read {csv_path}: {first_line(exc)}") from None
    columns = sql.SQL(", ").join(sql.SQL("{} text").format(sql.Identifier(name)) for name in header)
    try:
        with psycopg.connect(url, connect_timeout=10, autocommit=True) as con:
            con.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(table)))
            con.execute(sql.SQL("CREATE TABLE {} ({})").format(sql.Identifier(table), columns))
            with con.cursor().copy(sql.SQL("COPY {} FROM STDIN").format(sql.Identifier(table))) as copy:
                for row in rows:
                    copy.write_row(row)
    except psycopg.Error as exc:
        raise OpsError(f"Cannot write {table} at {redact_url(url)}: {first_line(exc)}") from None
    return len(rows)


def main(argv: list[str] | None = None) -> int:
    """`python -m ops_instantly.example_table CSV POSTGRES_URL TABLE`; exit 0, 1 on errors, 2 on usage."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 3:
        print("usage: python -m ops_instantly.example_table CSV POSTGRES_URL TABLE", file=sys.stderr)
        return 2
    csv_file, url, table = args
    try:
        count = load_csv(Path(csv_file), url, table)
    except OpsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {count} rows to {table} at {redact_url(url)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
