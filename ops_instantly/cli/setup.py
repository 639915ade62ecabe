"""`ops-instantly setup`: register the project's block types with the Prefect API in use."""

from __future__ import annotations

import typer

from ops_instantly.cli._app import app
from ops_instantly.errors import OpsError


@app.command()
def setup() -> None:
    """Register the block types (Instantly Credentials, DuckDB Warehouse, Postgres Source) with Prefect.

    Uses the Prefect API of the current profile (PREFECT_API_URL), or Prefect's ephemeral API.

    Example: ops-instantly setup
    """
    from blocks import BLOCK_TYPES

    for block_type in BLOCK_TYPES:
        try:
            block_type.register_type_and_schema()
        except Exception as exc:  # the Prefect API is unreachable or refuses
            raise OpsError(
                f"Could not register {block_type.get_block_type_name()} with the Prefect API: "
                f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}",
                hint="check PREFECT_API_URL, or start one with `prefect server start`",
            ) from None
        typer.echo(f"registered block type {block_type.get_block_type_slug()}")
