"""Fixtures for client unit tests: a fake clock (tests never sleep) and MockTransport-backed clients."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from instantly_client import InstantlyClient

API_KEY = "sk-test-SECRET-5f2c9d1e7a"
BASE_URL = "http://instantly.test/api/v2"


class FakeClock:
    """A monotonic clock whose ``sleep`` advances time instead of waiting."""

    def __init__(self, start: float = 1000.0) -> None:
        self.start = start
        self.now = start
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.now += seconds

    @property
    def elapsed(self) -> float:
        return self.now - self.start


class Script:
    """A MockTransport handler that replays responses/exceptions in order and records requests."""

    def __init__(self, *steps: Any, default: Any = None) -> None:
        self.steps = list(steps)
        self.default = default
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        step = self.steps.pop(0) if self.steps else self.default
        if callable(step) and not isinstance(step, httpx.Response):
            step = step(request)
        if isinstance(step, BaseException):
            raise step
        if step is None:
            return httpx.Response(200, json={})
        assert isinstance(step, httpx.Response)
        return step


@pytest.fixture
def api_key() -> str:
    return API_KEY


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def script_factory() -> type[Script]:
    return Script


@pytest.fixture
def make_client(clock: FakeClock) -> Iterator[Callable[..., InstantlyClient]]:
    """Build a client on a MockTransport handler, with the fake clock and deterministic jitter."""
    clients: list[InstantlyClient] = []

    def make(handler: Callable[[httpx.Request], httpx.Response], **overrides: Any) -> InstantlyClient:
        options: dict[str, Any] = {
            "api_key": API_KEY,
            "base_url": BASE_URL,
            "transport": httpx.MockTransport(handler),
            "clock": clock,
            "sleep": clock.sleep,
            "wall_clock": lambda: 1_700_000_000.0,
            "rand": lambda: 0.5,
        }
        options.update(overrides)
        client = InstantlyClient(**options)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()
