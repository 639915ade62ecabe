"""Service checks: tests that need a service skip when it is absent, unless OPS_REQUIRE_SERVICES is set."""

from __future__ import annotations

import os

import pytest


def require_service(name: str, available: bool) -> None:
    """Skip (or, with OPS_REQUIRE_SERVICES=1 as in CI, fail) when a needed service is absent."""
    if available:
        return
    if os.environ.get("OPS_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{name} is required (OPS_REQUIRE_SERVICES=1) but is not reachable")
    pytest.skip(f"{name} is not reachable")


def postgres_available(url: str) -> bool:
    """True when a Postgres server answers at url."""
    try:
        import psycopg

        with psycopg.connect(url, connect_timeout=3) as con:
            con.execute("SELECT 1")
        return True
    except Exception:
        return False
