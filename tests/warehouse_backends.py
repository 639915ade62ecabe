"""The warehouse backends a test runs on: a DuckDB file, and a DuckLake with its catalog in the local Postgres.

`warehouse_location` is parametrised over both (pytest ids `file` and `ducklake`; the DuckLake cases are marked
`slow`, so `./ops test` runs the file backend and `./ops test --all` both); `--backends file` (or `ducklake`)
narrows a run to one. Each DuckLake test gets its own catalog database, named after the test
session, dropped afterwards, and its data path in the test's tmp_path (also exported as
OPS_WAREHOUSE_DATA_PATH, so flows given the URL find it). Without Postgres the DuckLake cases skip, unless
OPS_REQUIRE_SERVICES=1 (CI), where they fail.
"""

from __future__ import annotations

import itertools
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.services import postgres_available, require_service

BACKENDS = ("file", "ducklake")
ADMIN_URL = os.environ.get("OPS_TEST_POSTGRES_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
_SESSION = uuid.uuid4().hex[:8]
_numbers = itertools.count(1)


def add_backend_option(parser: pytest.Parser) -> None:
    parser.addoption(
        "--backends",
        default=",".join(BACKENDS),
        help="comma-separated warehouse backends for backend-parametrised tests (file, ducklake)",
    )


def create_lake_database() -> str:
    """A new, empty Postgres database for a DuckLake catalog; returns its name."""
    import psycopg

    name = f"ops_lake_{_SESSION}_{next(_numbers)}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as con:
        con.execute(f'CREATE DATABASE "{name}"')
    return name


def drop_lake_database(name: str) -> None:
    """Drop a catalog database made by `create_lake_database` (closing this process's connections first)."""
    import psycopg

    from warehouse.db import close_lakes

    close_lakes()
    with psycopg.connect(ADMIN_URL, autocommit=True) as con:
        con.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def lake_url(dbname: str) -> str:
    """The OPS_WAREHOUSE setting of a DuckLake whose catalog is `dbname` on the local Postgres."""
    return f"ducklake:postgres:dbname={dbname} host=127.0.0.1 port=5432 user=postgres"


@pytest.fixture
def new_lake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The URL of a new, empty DuckLake (catalog database and data path of its own)."""
    require_service("Postgres at 127.0.0.1:5432", postgres_available(ADMIN_URL))
    dbname = create_lake_database()
    monkeypatch.setenv("OPS_WAREHOUSE_DATA_PATH", str(tmp_path / "lake-data"))
    try:
        yield lake_url(dbname)
    finally:
        drop_lake_database(dbname)


# The DuckLake cases are `slow` (each makes a Postgres catalog database and a lake: about 1.5 s apiece, a third
# of the fast suite): `./ops test` runs the file backend, `./ops test --all` (CI) both.
@pytest.fixture(params=["file", pytest.param("ducklake", marks=pytest.mark.slow)])
def warehouse_location(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A new, empty warehouse on each backend: a DuckDB file path, or a DuckLake URL."""
    backend = request.param
    if backend not in request.config.getoption("--backends").split(","):
        pytest.skip(f"--backends leaves out {backend}")
    if backend == "file":
        return str(tmp_path / "warehouse.duckdb")
    return str(request.getfixturevalue("new_lake"))


@pytest.fixture
def warehouse(warehouse_location: str) -> object:
    """A `Warehouse` on each backend (see `warehouse_location`)."""
    from blocks.warehouse import open_warehouse

    return open_warehouse(warehouse_location, os.environ.get("OPS_WAREHOUSE_DATA_PATH"))
