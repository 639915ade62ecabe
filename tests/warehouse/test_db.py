"""The warehouse on both backends: migrations applied once and in order, run history, clear errors."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pytest

from ops_core.errors import OpsError
from warehouse.db import Warehouse, WarehouseLockedError, migrations


def test_migrations_are_numbered_uniquely_and_in_order() -> None:
    versions = [version for version, _, _ in migrations()]
    assert versions == sorted(versions)
    assert versions[0] == 1
    assert len(set(versions)) == len(versions)


_PROGRESS_BARS = """
import os
import sys
import duckdb
from blocks.warehouse import open_warehouse
from warehouse.scratch import ScratchWarehouse

def bar(con):
    return con.execute("SELECT current_setting('enable_progress_bar')").fetchone()[0]

warehouse = open_warehouse(sys.argv[1], os.environ.get("OPS_WAREHOUSE_DATA_PATH"))
with warehouse.connect() as con:
    write = bar(con)
with warehouse.connect(read_only=True) as con:
    read = bar(con)
with ScratchWarehouse() as scratch, scratch.connect() as con:
    dry_run = bar(con)
print(bar(duckdb.connect()), write, read, dry_run)
"""


def test_no_connection_draws_duckdb_progress_bar(warehouse_location: str) -> None:
    # DuckDB draws it on standard output for a query over 2 s, and turns it on in a process like the CLI or a
    # worker (not under pytest): it landed in a `--json` document and in a test's output on a busy machine
    # (`100% ▕████▏ (00:00:02.24 elapsed)`).
    done = subprocess.run(
        [sys.executable, "-c", _PROGRESS_BARS, warehouse_location],
        capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    # DuckDB's default there; then a write, a read-only and a dry run's connection of ours
    assert done.stdout.split() == ["True", "False", "False", "False"]


def test_write_connection_applies_every_migration_once(warehouse: Warehouse) -> None:
    wh = warehouse
    with wh.connect() as con:
        first = con.execute("SELECT version FROM main._migrations ORDER BY version").fetchall()
    with wh.connect() as con:
        second = con.execute("SELECT version FROM main._migrations ORDER BY version").fetchall()
        schemas = {
            r[0] for r in con.execute("SELECT schema_name FROM information_schema.schemata").fetchall()
        }
    assert first == second == [(v,) for v, _, _ in migrations()]
    assert {"instantly", "ops"} <= schemas


def test_run_history_records_start_and_finish(warehouse: Warehouse) -> None:
    wh = warehouse
    wh.start_run("run-1", "push_leads")
    with wh.connect(read_only=True) as con:
        assert con.execute("SELECT status FROM ops.sync_runs WHERE run_id='run-1'").fetchone() == ("running",)
    wh.finish_run("run-1", "completed", {"created": 3})
    with wh.connect(read_only=True) as con:
        status, counts, finished = con.execute(
            "SELECT status, counts, finished_at FROM ops.sync_runs WHERE run_id='run-1'"
        ).fetchone()
    assert status == "completed"
    assert json.loads(counts) == {"created": 3}
    assert finished is not None


def test_read_only_connection_to_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with (
        pytest.raises(OpsError, match="No warehouse at"),
        Warehouse(tmp_path / "nope.duckdb").connect(read_only=True),
    ):
        pass


@contextmanager
def held_outside(path: Path, seconds: float, *, read_only: bool = False) -> Iterator[int]:
    """Another process (no ops-instantly: plain duckdb) holds the warehouse file for `seconds`; its PID."""
    duckdb.connect(str(path)).close()
    script = (
        f"import duckdb, time; con = duckdb.connect({str(path)!r}, read_only={read_only}); "
        f"print('locked', flush=True); time.sleep({seconds})"
    )
    holder = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        yield holder.pid
    finally:
        holder.kill()
        holder.wait()


@pytest.mark.parametrize("read_only", [False, True])
def test_a_file_locked_by_another_process_gives_a_one_line_error_naming_it(
    warehouse_path: Path, read_only: bool
) -> None:
    # An analyst's read-only notebook blocks a write too: the message says which process to close.
    with (
        held_outside(warehouse_path, 30, read_only=read_only) as pid,
        pytest.raises(WarehouseLockedError) as err,
        Warehouse(warehouse_path, lock_timeout=0.5).connect(),
    ):
        pass
    program = Path(sys.executable).resolve().name
    assert f"locked by another process, {program} (PID {pid})." in str(err.value)
    assert "a read-only one blocks a write too" in str(err.value)
    assert "\n" not in str(err.value)


def test_lock_holder_reads_duckdbs_message() -> None:
    from warehouse.db import lock_holder

    message = (
        'IO Error: Could not set lock on file "/w/warehouse.duckdb": Conflicting lock is held in '
        "/opt/my tools/bin/duckdb (PID 4242). However, you would be able to open this database in read-only mode"
    )
    assert lock_holder(message) == "duckdb (PID 4242)"
    assert (
        lock_holder('IO Error: Could not set lock on file "/w/warehouse.duckdb": Resource unavailable')
        is None
    )


def test_waiting_for_a_file_held_outside_says_so_once_then_opens_it(
    warehouse_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with (
        held_outside(warehouse_path, 2),
        caplog.at_level("WARNING", logger="warehouse.db"),
        Warehouse(warehouse_path, lock_timeout=30).connect(),
    ):
        pass
    told = [r.getMessage() for r in caplog.records if r.name == "warehouse.db"]
    assert len(told) == 1, told
    assert "held by a process outside ops-instantly, " in told[0] and "waiting up to" in told[0]
    assert "(PID " in told[0]


def test_table_exists_sees_tables_and_views_of_that_schema_only() -> None:
    from warehouse.db import table_exists

    with duckdb.connect() as con:
        con.execute("CREATE SCHEMA ops; CREATE TABLE ops.t (x INT); CREATE VIEW ops.v AS SELECT 1 AS x")
        assert table_exists(con, "ops", "t") and table_exists(con, "ops", "v")
        assert not table_exists(con, "ops", "missing") and not table_exists(con, "main", "t")
