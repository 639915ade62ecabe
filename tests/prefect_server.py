"""A real, local Prefect server for deployment tests: `prefect server start` in its own PREFECT_HOME."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

VENV_BIN = Path(__file__).resolve().parents[1] / ".venv" / "bin"


def prefect_exe() -> str:
    """The prefect executable of this environment."""
    candidate = VENV_BIN / "prefect"
    return str(candidate) if candidate.exists() else "prefect"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def prefect_server(
    home: Path, *, startup_timeout: float = 180.0, ui: bool = False
) -> Iterator[dict[str, str]]:
    """Start `prefect server start` and yield the environment that points a CLI or worker at it.

    With `ui=True` the server also serves the Prefect UI at the API URL without its `/api` suffix.
    """
    port = free_port()
    home.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "PREFECT_HOME": str(home),
        "PREFECT_API_URL": f"http://127.0.0.1:{port}/api",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_SERVER_UI_ENABLED": "true" if ui else "false",
        "PREFECT_CLI_PROMPT": "false",
    }
    log = (home / "server.log").open("w")
    proc = subprocess.Popen(
        [prefect_exe(), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + startup_timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(
                    f"prefect server exited early: {(home / 'server.log').read_text()[-2000:]}"
                )
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("prefect server did not become healthy in time")
            time.sleep(1)
        yield env
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()
