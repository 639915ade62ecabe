"""`ops-instantly sandbox`: run the local Instantly-compatible server in the foreground."""

from __future__ import annotations

from pathlib import Path

import typer

from ops_instantly.cli._app import app
from ops_instantly.errors import OpsError


@app.command()
def sandbox(
    port: int = typer.Option(8765, min=0, max=65535, help="Port on 127.0.0.1."),
    latency_ms: int = typer.Option(0, min=0, help="Extra latency added to every API response."),
    rate_per_second: int = typer.Option(100, min=1, help="Workspace budget; excess gets 429."),
    rate_per_minute: int = typer.Option(6000, min=1, help="Workspace budget; excess gets 429."),
    rate_window: str = typer.Option(
        "sliding",
        metavar="sliding|fixed",
        help="How the budget is counted: any 1 s / 60 s span (sliding) or calendar seconds/minutes (fixed).",
    ),
    fail_rate: float = typer.Option(0.0, min=0.0, max=1.0, help="Fraction of API requests answered 5xx."),
    seed: int = typer.Option(0, help="Seed for ids, engagement and faults (reproducible runs)."),
    state: Path | None = typer.Option(None, help="JSON file: state is loaded from it and saved on exit."),
) -> None:
    """Run a local Instantly API v2 sandbox on loopback (API key: sandbox-key).

    Example: ops-instantly sandbox --port 8765 --latency-ms 80 --fail-rate 0.01
    """
    from instantly_sandbox import serve

    if rate_window not in ("sliding", "fixed"):
        raise OpsError(f"--rate-window {rate_window!r} is not a choice.", hint="use sliding or fixed")
    serve(
        port=port,
        latency_ms=latency_ms,
        rate_per_second=rate_per_second,
        rate_per_minute=rate_per_minute,
        rate_window=rate_window,
        fail_rate=fail_rate,
        seed=seed,
        state_file=state,
    )
