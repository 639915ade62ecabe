"""Where the warehouse is (warehouse/location.py): --warehouse, else OPS_WAREHOUSE, else ./warehouse.duckdb."""

from __future__ import annotations

from pathlib import Path

import pytest

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
