"""`DuckDBWarehouse`: where the warehouse file lives."""

from __future__ import annotations

import os
from pathlib import Path

from prefect.blocks.core import Block
from pydantic import Field

from blocks._assets import logo_url
from blocks._load import load_block
from warehouse.db import Warehouse

DEFAULT_WAREHOUSE = "./warehouse.duckdb"


def default_warehouse_path() -> str:
    """`OPS_WAREHOUSE` when set, else ./warehouse.duckdb."""
    return os.environ.get("OPS_WAREHOUSE") or DEFAULT_WAREHOUSE


class DuckDBWarehouse(Block):
    """The DuckDB file that holds the source tables, Instantly data and the engagement views.

    Example:
        ```python
        from blocks import DuckDBWarehouse

        wh = DuckDBWarehouse.load("default").get_warehouse()
        with wh.connect(read_only=True) as con:
            con.sql("select * from ops.sync_runs").show()
        ```
    """

    _block_type_name = "DuckDB Warehouse"
    _block_type_slug = "duckdb-warehouse"
    _description = "Path of the ops-instantly DuckDB warehouse file."
    _code_example = """```python
from blocks import DuckDBWarehouse

warehouse = DuckDBWarehouse.load("default").get_warehouse()
with warehouse.connect(read_only=True) as con:
    con.sql("select * from ops.sync_runs").show()
```"""
    _documentation_url = "https://duckdb.org/docs/"  # type: ignore[assignment]
    _logo_url = logo_url("duckdb-warehouse")  # type: ignore[assignment]

    path: str = Field(
        default_factory=default_warehouse_path, title="File", description="Path of the DuckDB file."
    )

    def get_warehouse(self) -> Warehouse:
        """The warehouse, migrated on first write."""
        return Warehouse(Path(self.path).expanduser())


def resolve_warehouse(block_name: str | None = None, path: str | None = None) -> Warehouse:
    """A warehouse from an explicit path, a named block, or the default path.

    Raises:
        OpsError: `block_name` names no saved DuckDB Warehouse block.
    """
    if path:
        return Warehouse(Path(path).expanduser())
    if block_name:
        return load_block(
            DuckDBWarehouse, block_name, hint="save one in the Prefect UI (Blocks > DuckDB Warehouse)"
        ).get_warehouse()
    return DuckDBWarehouse().get_warehouse()
