"""Shared fixtures: a real SandboxServer on a free loopback port and an httpx client for it."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from instantly_sandbox import SandboxServer


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(seed=7) as server:
        yield server


@pytest.fixture
def client(sandbox: SandboxServer) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=sandbox.base_url, headers={"Authorization": f"Bearer {sandbox.api_key}"}, timeout=30
    ) as c:
        yield c
