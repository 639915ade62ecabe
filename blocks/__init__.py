"""Prefect blocks: where credentials and connections live. The only bridge from Prefect to the client."""

from blocks import run_logs
from blocks.instantly import InstantlyCredentials, resolve_credentials
from blocks.postgres import PostgresSource, check_postgres_source_saved, load_postgres_source
from blocks.warehouse import DuckDBWarehouse, resolve_warehouse

# Every flow and task imports blocks: from here on, a failed run logs an input error as one line.
run_logs.install()

__all__ = [
    "BLOCK_TYPES",
    "DuckDBWarehouse",
    "InstantlyCredentials",
    "PostgresSource",
    "check_postgres_source_saved",
    "load_postgres_source",
    "resolve_credentials",
    "resolve_warehouse",
]

BLOCK_TYPES = (InstantlyCredentials, DuckDBWarehouse, PostgresSource)
