"""Fixtures of the flow tests."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture
def env(prefect_harness: None, sandbox: Any, warehouse_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """INSTANTLY_* pointing at the sandbox and OPS_WAREHOUSE at a fresh file (the README's exports);
    returns the sandbox."""
    monkeypatch.setenv("INSTANTLY_API_KEY", sandbox.api_key)
    monkeypatch.setenv("INSTANTLY_BASE_URL", sandbox.base_url)
    monkeypatch.setenv("OPS_WAREHOUSE", str(warehouse_path))
    return sandbox


@pytest.fixture
def postgres_table(postgres_url: str) -> Iterator[Callable[..., str]]:
    """Makes uniquely named tables in the Postgres test database and drops them after the test, passed or
    failed. `postgres_table("people", "id integer, email text", [(1, "a@x.co")])` creates `people_<8 hex>` in
    the default schema with those columns (SQL) and rows (in column order), and returns its name."""
    import psycopg

    created: list[str] = []

    def create(prefix: str, columns: str, rows: Iterable[Sequence[Any]] = ()) -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(postgres_url, autocommit=True) as pg:
            pg.execute(f"CREATE TABLE {name} ({columns})")
            created.append(name)
            rows = list(rows)
            if rows:
                values = ", ".join(["%s"] * len(rows[0]))
                pg.cursor().executemany(f"INSERT INTO {name} VALUES ({values})", rows)
        return name

    yield create
    with psycopg.connect(postgres_url, autocommit=True) as pg:
        for name in created:
            pg.execute(f"DROP TABLE IF EXISTS {name}")
