"""User-facing errors for the CLI: re-exported from `ops_core.errors`, where every layer raises them."""

from __future__ import annotations

from ops_core.errors import OpsError, first_line, one_line

__all__ = ["OpsError", "first_line", "one_line"]
