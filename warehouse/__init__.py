"""The DuckDB warehouse: versioned SQL migrations and the single writer."""

from warehouse.db import Warehouse, WarehouseLockedError
from warehouse.lock import WarehouseBusyError

__all__ = ["Warehouse", "WarehouseBusyError", "WarehouseLockedError"]
