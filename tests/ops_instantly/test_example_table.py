"""README's quick start loads examples/leads.csv into Postgres before pushing from `crm_leads`."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from ops_instantly.example_table import main
from tests.postgres_scratch import PostgresScratch

REPO = Path(__file__).resolve().parents[2]


def _quick_start_lines() -> list[str]:
    text = (REPO / "README.md").read_text()
    block = re.findall(r"```bash\n(.*?)```", text.split("## Quick start", 1)[1], re.S)[1]
    return [line.split("  #")[0].strip() for line in block.splitlines() if line.strip()]


def test_readme_creates_the_postgres_table_before_pushing_from_it() -> None:
    lines = _quick_start_lines()
    load = next(i for i, line in enumerate(lines) if "ops_instantly.example_table" in line)
    push = next(i for i, line in enumerate(lines) if "--table crm_leads" in line)
    assert load < push
    *_, csv_file, url, table = lines[load].split()
    assert (REPO / csv_file).is_file()
    assert f"--source {url} --table {table}" in lines[push]


def test_the_readme_line_loads_every_row_and_replaces_the_table(
    postgres_url: str, postgres_scratch: PostgresScratch
) -> None:
    table = postgres_scratch.name("ops_test_example_table")
    command = [sys.executable, "-m", "ops_instantly.example_table", "examples/leads.csv", postgres_url, table]
    for _ in range(2):  # twice: a second run replaces, it does not append
        done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
    with psycopg.connect(postgres_url) as con:
        rows = con.execute(f'SELECT "Email", "First Name" FROM {table} ORDER BY "Email"').fetchall()
    assert len(rows) == 20
    assert ("ava.nguyen@northwind.example", "Ava") in rows


def test_an_unreachable_server_is_one_line_without_the_password(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["examples/leads.csv", "postgresql://postgres:hunter2@127.0.0.1:1/test", "t"])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("error: Cannot write t at ") and err.count("\n") == 1
    assert "hunter2" not in err
