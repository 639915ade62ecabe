"""instantly_sandbox: a local Instantly.ai API v2-compatible HTTP server, driven by the OpenAPI document.

    from instantly_sandbox import SandboxServer

    with SandboxServer(seed=1) as sandbox:          # 127.0.0.1, free port, daemon thread
        client = httpx.Client(base_url=sandbox.base_url,
                              headers={"Authorization": f"Bearer {sandbox.api_key}"})
        ...
        httpx.post(f"{sandbox.url}/_sandbox/advance", json={"days": 7})

Requests are validated against `spec/instantly-openapi-v2.json` (bodies, query strings, path params), so
unknown lead fields, non-scalar custom variables, out-of-range limits and closed enums fail with the Fastify
envelope `{"statusCode": 400, "error": "Bad Request", "message": "body/leads/0 must NOT have additional
properties"}`. Unserved paths answer 404 in the same envelope.

API keys (header `Authorization: Bearer <key>`):
    sandbox-key                    full access (default; `api_keys=[...]` replaces the list of valid keys)
    missing / unknown key          401 Unauthorized
    `sandbox-unpaid...` (prefix)   402 "Workspace does not have an active paid plan"
    `sandbox-readonly...` (prefix) 403 on every non-GET except POST /leads/list (which only reads)

Rate limit: one workspace-wide limiter, `rate_per_second` AND `rate_per_minute` over real time (defaults
100/s, 6000/min per DOC-RL); GET /emails also has its own 20/min. How the real API counts is not documented,
so `rate_window` picks the algorithm: "sliding" (default; any 1 s / 60 s span) or "fixed" (calendar seconds
and minutes, reset on the boundary). A request counts when it arrives, before any added latency. Excess gets 429
`{"statusCode":429,"error":"Too Many Requests","message":"Rate limit exceeded"}` with no Retry-After.

Admin endpoints are listed in `_routes_admin.py`, fault knobs in `_faults.py`, engagement probabilities in
`_state.DEFAULT_ENGAGEMENT`, and the counting rules of analytics in `_analytics.py`.
"""

from __future__ import annotations

import gc
import signal
import threading
from pathlib import Path
from typing import Any

import httpx

from . import (  # noqa: F401 - register routes
    _routes_admin,
    _routes_campaigns,
    _routes_leads,
    _routes_other,
    _routes_webhook_events,
)
from ._server import Sandbox, start
from ._state import State

__all__ = ["SandboxServer", "serve"]


class SandboxServer:
    """A sandbox on a loopback port, served from a daemon thread; a context manager (or call `stop()`)."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        seed: int = 0,
        latency_ms: float = 0,
        rate_per_second: float = 100,
        rate_per_minute: float = 6000,
        rate_window: str = "sliding",
        fail_rate: float = 0.0,
        state_file: str | Path | None = None,
        api_keys: list[str] | None = None,
        engagement: dict[str, float] | None = None,
        freeze_gc: bool = False,
        **faults: Any,
    ) -> None:
        """`freeze_gc=True` is for a process that runs only the sandbox (:func:`serve`): after each API
        request everything alive moves to the permanent GC generation (`gc.freeze()`), so the cyclic GC
        never walks the leads held so far again (a million leads made each full collection take seconds).
        Frozen objects are still freed when their last reference goes; only reference cycles that become
        garbage after being frozen are never collected. Leave it off in a process that does anything else.
        """
        self._sandbox = Sandbox(
            seed=seed,
            rate_per_second=rate_per_second,
            rate_per_minute=rate_per_minute,
            rate_window=rate_window,
            api_keys=api_keys,
            state_file=state_file,
            faults={"latency_ms": latency_ms, "fail_rate": fail_rate, **faults},
        )
        if engagement:
            self._sandbox.state.config.update(engagement)
        self.api_key = sorted(self._sandbox.api_keys)[0] if api_keys else "sandbox-key"
        self._httpd, self._thread = start(host, port, self._sandbox, freeze_gc=freeze_gc)
        self.url: str = self._sandbox.url
        self.base_url = f"{self.url}/api/v2"

    @property
    def state(self) -> State:
        return self._sandbox.state

    @property
    def stats(self) -> dict[str, Any]:
        limiter = self._sandbox.limiter
        return {
            **dict(self._sandbox.stats),
            "per_path": dict(self._sandbox.per_path),
            "busiest_second": limiter.busiest(1.0),
            "busiest_minute": limiter.busiest(60.0),
            "attempt_span_seconds": limiter.span(),
        }

    def admin(self, method: str, path: str, **kwargs: Any) -> Any:
        """Call a `/_sandbox/...` endpoint, e.g. `admin("POST", "advance", json={"days": 3})`."""
        resp = httpx.request(method, f"{self.url}/_sandbox/{path.lstrip('/')}", timeout=60, **kwargs)
        resp.raise_for_status()
        return resp.json()

    def advance(self, *, days: float = 0, hours: float = 0, minutes: float = 0) -> Any:
        return self.admin("POST", "advance", json={"days": days, "hours": hours, "minutes": minutes})

    def wait_for_webhooks(self, timeout: float = 10.0) -> bool:
        return self._sandbox.dispatcher.wait_idle(timeout)

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)
        self._sandbox.dispatcher.close()
        self._sandbox.save()

    def __enter__(self) -> SandboxServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve(port: int = 8765, host: str = "127.0.0.1", **kwargs: Any) -> None:
    """Run a sandbox in the foreground until Ctrl-C (or SIGTERM); `--state FILE` is saved on the way out."""
    server = SandboxServer(host, port, freeze_gc=True, **kwargs)
    gc.freeze()  # the modules, the OpenAPI document and any state loaded from --state
    # Each request's survivors are frozen when it ends (freeze_gc), so a collection only ever walks what the
    # requests in flight made; collect that every 100,000 allocations, not every 700 (a bulk add makes ~8,000).
    gc.set_threshold(100_000, 10, 10)
    print(
        f"Instantly sandbox on {server.base_url} (key: {server.api_key}); admin at {server.url}/_sandbox/",
        flush=True,
    )
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    try:
        stopped.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
