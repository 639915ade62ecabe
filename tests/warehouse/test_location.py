"""Where the warehouse is (warehouse/location.py): --warehouse, else OPS_WAREHOUSE, else ./warehouse.duckdb."""

from __future__ import annotations

from pathlib import Path

import pytest

from ops_core.errors import OpsError
from warehouse.location import DEFAULT_WAREHOUSE, open_warehouse, warehouse_at


def test_with_nothing_set_it_is_the_file_in_the_current_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPS_WAREHOUSE", raising=False)
    wh = warehouse_at(None)
    assert wh.path == Path(DEFAULT_WAREHOUSE) and wh.lake is None


def test_ops_warehouse_names_it_and_an_explicit_location_wins(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("OPS_WAREHOUSE", str(tmp_path / "env.duckdb"))
    assert warehouse_at(None).path == tmp_path / "env.duckdb"
    assert warehouse_at(str(tmp_path / "given.duckdb")).path == tmp_path / "given.duckdb"


def test_a_home_relative_path_is_expanded(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    assert open_warehouse("~/w.duckdb").path == tmp_path / "w.duckdb"


def test_a_ducklake_url_takes_its_data_path_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPS_WAREHOUSE_DATA_PATH", "/shared/lake/")
    wh = warehouse_at("ducklake:postgres:dbname=ops host=db1 user=ops")
    assert wh.path is None and wh.lake is not None
    assert (wh.lake.catalog, wh.lake.data_path) == ("postgres:dbname=ops host=db1 user=ops", "/shared/lake/")


def test_a_mistyped_warehouse_folder_is_a_one_line_error_and_no_folder_is_made(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Was: the folders were made, and an empty warehouse created in them.
    monkeypatch.setenv("OPS_WAREHOUSE", str(tmp_path / "typo-dir" / "nested" / "ops-data.duckdb"))
    with pytest.raises(OpsError) as raised, warehouse_at(None).connect():
        pass
    assert str(raised.value).startswith(
        f"Cannot create the warehouse {tmp_path}/typo-dir/nested/ops-data.duckdb: its folder "
        f"{tmp_path}/typo-dir/nested does not exist."
    )
    assert "\n" not in str(raised.value) and not (tmp_path / "typo-dir").exists()


def test_the_default_warehouse_is_created_in_the_current_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("OPS_WAREHOUSE", raising=False)
    monkeypatch.chdir(tmp_path)
    with warehouse_at(None).connect() as con:
        con.execute("SELECT count(*) FROM ops.source_tables").fetchall()
    assert (tmp_path / "warehouse.duckdb").is_file()


@pytest.mark.parametrize("name", ["ops.duckdb", "instantly.duckdb", "OPS.db"])
def test_a_warehouse_file_named_after_a_schema_is_a_one_line_error(tmp_path: Path, name: str) -> None:
    # Was: DuckDB names the database after the file, and `ops.source_tables` failed as ambiguous mid-push.
    clash = f"a file named {name} clashes with the warehouse's schema"
    with pytest.raises(OpsError, match=clash), open_warehouse(str(tmp_path / name)).connect():
        pass
    assert not (tmp_path / name).exists()
