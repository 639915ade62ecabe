"""What the benchmarks share: a sandbox in its own process, an always-sending schedule, the machine's description."""

from __future__ import annotations

import os
import platform
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
SCHEDULE = {
    "schedules": [
        {
            "name": "Always",
            "timing": {"from": "00:00", "to": "23:59"},
            "days": {str(d): True for d in range(7)},
            "timezone": "America/Detroit",
        }
    ]
}


def environment() -> dict[str, Any]:
    """When and where a benchmark ran, for its results file: time (UTC), machine, CPUs, Python, load average."""
    return {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": platform.platform(),
        "cpus": os.cpu_count(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


@dataclass
class Sandbox:
    url: str
    api_key: str = "sandbox-key"
    pid: int = 0  # of the sandbox process (for its CPU time)

    @property
    def base_url(self) -> str:
        return self.url + "/api/v2"


@contextmanager
def sandbox_process(
    server_rate_per_second: float,
    *,
    server_rate_per_minute: float = 6000,
    rate_window: str = "sliding",
    state_file: Path | None = None,
) -> Iterator[Sandbox]:
    """The sandbox in its own process, so its CPU work does not compete with ours for one GIL.

    With `state_file`, the sandbox starts from that file if it exists and saves its state there on exit.
    """
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    command = [sys.executable, "-m", "instantly_sandbox", "--port", str(port), "--seed", "1"]
    command += ["--rate-per-second", str(server_rate_per_second)]
    command += ["--rate-per-minute", str(server_rate_per_minute), "--rate-window", rate_window]
    if state_file is not None:
        command += ["--state", str(state_file)]
    proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    sandbox = Sandbox(f"http://127.0.0.1:{port}", pid=proc.pid)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{sandbox.url}/_sandbox/state", timeout=1).raise_for_status()
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise SystemExit("the sandbox did not start") from None
                time.sleep(0.1)
        yield sandbox
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=300 if state_file is not None else 10)  # saving a big state takes a while
        except subprocess.TimeoutExpired:  # a sandbox holding a million leads can be slow to exit
            proc.kill()
            proc.wait(timeout=30)
