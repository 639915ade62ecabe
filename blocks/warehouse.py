"""`DuckDBWarehouse`: where the warehouse lives (a DuckDB file, or a DuckLake with its catalog in Postgres)."""

from __future__ import annotations

from prefect.blocks.core import Block
from pydantic import Field

from blocks._assets import logo_url
from blocks._load import load_block
from warehouse.db import Warehouse
from warehouse.location import (
    DEFAULT_WAREHOUSE,
    default_data_path,
    default_warehouse_path,
    open_warehouse,
    warehouse_at,
)

__all__ = [
    "DEFAULT_WAREHOUSE",
    "DuckDBWarehouse",
    "default_data_path",
    "default_warehouse_path",
    "open_warehouse",
    "resolve_warehouse",
]


class DuckDBWarehouse(Block):
    """Where the source tables, Instantly data and the engagement views live.

    A DuckDB file path (one machine, one writer at a time), or a DuckLake URL
    `ducklake:postgres:dbname=ops host=db1 user=ops` (catalog in Postgres, Parquet files under `data_path`,
    many writers on many machines): see docs/warehouse.md and docs/production.md. Keep passwords out of
    the URL: the catalog connection reads PGPASSWORD or ~/.pgpass like any libpq client.

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
    _description = "The ops-instantly warehouse: a DuckDB file, or a DuckLake on Postgres."
    _code_example = """```python
from blocks import DuckDBWarehouse

warehouse = DuckDBWarehouse.load("default").get_warehouse()
with warehouse.connect(read_only=True) as con:
    con.sql("select * from ops.sync_runs").show()
```"""
    # Prefect types these ClassVar[HttpUrl | None]; a URL string serves (its BlockType model validates it).
    _documentation_url = "https://duckdb.org/docs/"  # type: ignore[assignment]
    _logo_url = logo_url("duckdb-warehouse")  # type: ignore[assignment]

    path: str = Field(
        default_factory=default_warehouse_path,
        title="File or DuckLake",
        description="Path of the DuckDB file, or ducklake:postgres:<libpq connection string, no password>.",
    )
    data_path: str = Field(
        default_factory=default_data_path,
        title="DuckLake data path",
        description="DuckLake only: the folder or s3:// prefix for a new lake's Parquet files "
        "(an existing lake uses the one it recorded).",
    )

    def get_warehouse(self) -> Warehouse:
        """The warehouse, migrated on first write."""
        return open_warehouse(self.path, self.data_path or None)


def resolve_warehouse(block_name: str | None = None, path: str | None = None) -> Warehouse:
    """A warehouse from an explicit location (file or DuckLake URL), a named block, or the default.

    An explicit DuckLake URL takes its data path from OPS_WAREHOUSE_DATA_PATH.

    Raises:
        OpsError: `block_name` names no saved DuckDB Warehouse block.
    """
    if block_name and not path:
        return load_block(
            DuckDBWarehouse, block_name, hint="save one in the Prefect UI (Blocks > DuckDB Warehouse)"
        ).get_warehouse()
    return warehouse_at(path)  # what `DuckDBWarehouse()` (its defaults) opens
