"""Scratch objects in the Postgres test database: uniquely named, dropped after the test, passed or failed."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import Any


class PostgresScratch:
    """What a test creates in the Postgres test database (the `postgres_scratch` fixture), dropped at its end.

    Every name is `<prefix>_<8 hex>`, so runs in parallel and runs that were killed never collide.

    Example:
        table = postgres_scratch.table("people", "id integer, email text", [(1, "a@x.co")])
        schema = postgres_scratch.schema("crm")  # dropped with CASCADE: its tables go with it
        name = postgres_scratch.name("copy")  # a table the code under test creates
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self._drops: list[str] = []

    def name(self, prefix: str) -> str:
        """A new table name in the default schema, dropped (if it exists) at the end of the test."""
        name = f"{prefix}_{uuid.uuid4().hex[:8]}"
        self._drops.append(f"DROP TABLE IF EXISTS {name}")
        return name

    def table(self, prefix: str, columns: str, rows: Iterable[Sequence[Any]] = ()) -> str:
        """Create `<prefix>_<hex>` with `columns` (SQL) and `rows` (values in column order); returns its name."""
        import psycopg

        name = self.name(prefix)
        rows = list(rows)
        with psycopg.connect(self.url, autocommit=True) as pg:
            pg.execute(f"CREATE TABLE {name} ({columns})")
            if rows:
                values = ", ".join(["%s"] * len(rows[0]))
                pg.cursor().executemany(f"INSERT INTO {name} VALUES ({values})", rows)
        return name

    def schema(self, prefix: str) -> str:
        """Create the schema `<prefix>_<hex>`; returns its name. Dropped with CASCADE at the end of the test."""
        name = f"{prefix}_{uuid.uuid4().hex[:8]}"
        self._drops.append(f"DROP SCHEMA IF EXISTS {name} CASCADE")
        self.execute(f"CREATE SCHEMA {name}")
        return name

    def execute(self, sql: str) -> None:
        """Run SQL (one or more statements, no parameters) in its own autocommit connection."""
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as pg:
            pg.execute(sql)

    def drop(self) -> None:
        """Drop everything created or named, newest first."""
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as pg:
            for statement in reversed(self._drops):
                pg.execute(statement)
        self._drops.clear()
