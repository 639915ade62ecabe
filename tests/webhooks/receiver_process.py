"""`ops-instantly webhooks listen` as a real process on a free loopback port, as a user (or Instantly) sees it."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
LISTENING = re.compile(r"Listening on (http://\S+)")


class ReceiverProcess:
    """Start the receiver with `secret` (via OPS_WEBHOOK_SECRET) spooling into `spool`; `kill()` any way."""

    def __init__(self, spool: Path, secret: str = "s3cret-for-tests", *extra: str) -> None:
        self.spool, self.secret = spool, secret
        env = {**os.environ, "OPS_WEBHOOK_SECRET": secret, "PYTHONUNBUFFERED": "1"}
        cmd = [
            str(Path(sys.executable).with_name("ops-instantly")),
            "webhooks",
            "listen",
            "--port",
            "0",
            "--spool",
            str(spool),
        ]
        self.proc = subprocess.Popen(
            [*cmd, *extra], cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        self.stderr: list[str] = []
        threading.Thread(target=self._drain_stderr, daemon=True).start()
        self.url = self._wait_for_url(timeout=90)
        self.base = self.url.rsplit("/instantly/", 1)[0]

    def _drain_stderr(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.stderr.append(line)

    def _wait_for_url(self, timeout: float) -> str:
        assert self.proc.stdout is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            found = LISTENING.search(line)
            if found:
                return found.group(1)
        self.kill(signal.SIGKILL)
        raise RuntimeError(f"the receiver did not start: {''.join(self.stderr)[-2000:]}")

    def kill(self, sig: int = signal.SIGTERM) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        self.proc.wait(timeout=30)

    def __enter__(self) -> ReceiverProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.kill()
