"""Where the warehouse is, from a setting: a DuckDB file path or a `ducklake:` URL (no Prefect needed).

`OPS_WAREHOUSE` names it (default `./warehouse.duckdb`), `OPS_WAREHOUSE_DATA_PATH` a new DuckLake's data
folder. The `DuckDBWarehouse` block (blocks/warehouse.py) defaults to these and opens its location here; the
CLI opens `--warehouse` here too, so a command that runs no flow never imports Prefect.
"""

from __future__ import annotations

import os
from pathlib import Path

from warehouse.db import Warehouse
from warehouse.lake import is_lake_url

__all__ = [
    "DEFAULT_WAREHOUSE",
    "default_data_path",
    "default_warehouse_path",
    "open_warehouse",
    "warehouse_at",
]

DEFAULT_WAREHOUSE = "./warehouse.duckdb"


def default_warehouse_path() -> str:
    """`OPS_WAREHOUSE` when set, else ./warehouse.duckdb."""
    return os.environ.get("OPS_WAREHOUSE") or DEFAULT_WAREHOUSE


def default_data_path() -> str:
    """`OPS_WAREHOUSE_DATA_PATH` when set, else empty (a DuckLake's recorded data path)."""
    return os.environ.get("OPS_WAREHOUSE_DATA_PATH") or ""


def open_warehouse(location: str, data_path: str | None = None) -> Warehouse:
    """A Warehouse from a setting: a file path (`~` expanded) or a `ducklake:` URL (pure).

    Raises:
        OpsError: a `ducklake:` URL this project cannot use (`warehouse.lake.parse_lake`).
    """
    if is_lake_url(location):
        return Warehouse(location, data_path=data_path)
    return Warehouse(Path(location).expanduser())


def warehouse_at(location: str | None = None) -> Warehouse:
    """The warehouse at `location` (a file path or DuckLake URL), else the one OPS_WAREHOUSE names.

    A DuckLake takes its data path from OPS_WAREHOUSE_DATA_PATH.

    Raises:
        OpsError: a `ducklake:` URL this project cannot use.
    """
    return open_warehouse(location or default_warehouse_path(), default_data_path() or None)
