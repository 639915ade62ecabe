"""The typer application every command module registers on."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="ops-instantly",
    help=(
        "Push Ops tables to Instantly.ai campaigns, pull engagement back into DuckDB.\n\n"
        "Example: ops-instantly demo"
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
