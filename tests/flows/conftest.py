"""Fixtures of the flow tests."""

from __future__ import annotations

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
