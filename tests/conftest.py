"""Shared fixtures: a real sandbox over HTTP, real DuckDB files, real Postgres, one Prefect harness."""

from __future__ import annotations

import os
import signal
import tempfile

# Prefect reads its settings at import: give the test session its own PREFECT_HOME (two processes sharing one
# can hit "database is locked") and a start-up timeout that survives a loaded 2-core machine.
os.environ["PREFECT_HOME"] = tempfile.mkdtemp(prefix="ops-instantly-test-prefect-")
os.environ["PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"] = "240"
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ.pop("PREFECT_API_URL", None)
for _var in ("INSTANTLY_API_KEY", "INSTANTLY_BASE_URL", "OPS_WAREHOUSE", "OPS_WAREHOUSE_DATA_PATH"):
    os.environ.pop(_var, None)

from collections.abc import Iterator  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from hypothesis import settings  # noqa: E402

from tests.postgres_scratch import PostgresScratch  # noqa: E402
from tests.services import postgres_available, require_service  # noqa: E402
from tests.warehouse_backends import (  # noqa: E402, F401  (fixtures)
    add_backend_option,
    new_lake,
    warehouse,
    warehouse_location,
)

POSTGRES_URL = os.environ.get("OPS_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture(autouse=True)
def _sigint_handler_restored() -> Iterator[None]:
    """Each test ends with the SIGINT handler it started with. `main()` run in-process on a Ctrl-C
    (tests/cli/test_errors.py) ignores SIGINT for the exit that follows; an ignored SIGINT is inherited by
    every process started later, so a later CLI subprocess never saw its Ctrl-C (a full run's only failure
    of tests/cli/test_temporary_api.py's Ctrl-C test)."""
    before = signal.getsignal(signal.SIGINT)
    yield
    if signal.getsignal(signal.SIGINT) is not before:
        signal.signal(signal.SIGINT, before)


# Property tests draw the same examples on every run and machine (a seed derived from each test), and keep no
# example database between runs: a failure reproduces with the same command, and Hypothesis prints the
# failing example. Tests may still narrow this with their own @settings.
settings.register_profile("ops-instantly", derandomize=True, database=None, print_blob=True)
settings.load_profile("ops-instantly")


def pytest_addoption(parser: pytest.Parser) -> None:
    add_backend_option(parser)


@pytest.fixture
def sandbox() -> Iterator[object]:
    """A fresh sandbox server on a free loopback port."""
    from instantly_sandbox import SandboxServer

    with SandboxServer(port=0, seed=7) as server:
        yield server


@pytest.fixture
def warehouse_path(tmp_path: Path) -> Path:
    """Path of a new DuckDB warehouse file."""
    return tmp_path / "warehouse.duckdb"


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """URL of the real Postgres test database (skips when absent, fails in CI)."""
    require_service("Postgres at 127.0.0.1:5432", postgres_available(POSTGRES_URL))
    return POSTGRES_URL


@pytest.fixture
def postgres_scratch(postgres_url: str) -> Iterator[PostgresScratch]:
    """Tables and schemas the test creates in the Postgres test database, dropped after it, passed or failed
    (tests/postgres_scratch.py)."""
    scratch = PostgresScratch(postgres_url)
    try:
        yield scratch
    finally:
        scratch.drop()


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """One temporary Prefect API for the whole test session."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=240):
        yield


@pytest.fixture
def no_default_block(prefect_harness: None) -> Iterator[None]:
    """The session's Prefect API without a block named `default` before and after the test."""

    def delete() -> None:
        from prefect.client.orchestration import get_client

        from blocks import InstantlyCredentials

        InstantlyCredentials.register_type_and_schema()
        with get_client(sync_client=True) as client:
            for document in client.read_block_documents_by_type("instantly-credentials"):
                if document.name == "default":
                    client.delete_block_document(document.id)

    delete()
    yield
    delete()
