"""The DuckDB warehouse: versioned SQL migrations and the single writer."""

from warehouse.db import Warehouse, WarehouseLockedError

__all__ = ["Warehouse", "WarehouseLockedError"]
