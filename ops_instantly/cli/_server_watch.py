"""Prefect's temporary API server dies with the CLI process, even after `kill -9`.

Without PREFECT_API_URL, Prefect 3 (3.8.8: `prefect.server.api.server.SubprocessASGIServer`) starts its
temporary API as a child process (`python -m uvicorn ...`) and stops it only from an `atexit` hook. A process
killed with SIGKILL runs no exit hook, so the server stayed behind, for good, holding a port, its SQLite
database and the CLI's stdout (a `| jq` downstream never saw end of file). Prefect has no setting that runs
that server in-process or ties it to its parent, and it starts the server with no `preexec_fn` for
PR_SET_PDEATHSIG.

So the CLI starts a small watchdog next to it: a Python process that holds a pidfd of the CLI and one of the
server, waits until the CLI's pidfd becomes readable (the CLI ended, however it ended), then stops the
server through its pidfd (SIGTERM, SIGKILL after 5 s). A pidfd names one process for good, so a recycled pid
is never signalled; after a normal exit Prefect has already stopped the server and the watchdog finds it
gone. Linux only (pidfd_open, 5.3+); elsewhere nothing is started and Prefect's own exit hook is all there is.
"""

from __future__ import annotations

import os
import subprocess
import sys

__all__ = ["watch_temporary_api"]

# Runs in the watchdog process: argv[1] = pidfd of the CLI, argv[2] = pidfd of the server.
# poll(), not select(): the inherited fd numbers may be above select's 1024.
_WATCHDOG = """
import select, signal, sys
cli, server = int(sys.argv[1]), int(sys.argv[2])
def ended(fd, ms=None):
    p = select.poll()
    p.register(fd, select.POLLIN)
    return bool(p.poll(ms))
ended(cli)
try:
    signal.pidfd_send_signal(server, signal.SIGTERM)
    if not ended(server, 5000):
        signal.pidfd_send_signal(server, signal.SIGKILL)
except ProcessLookupError:
    pass
"""

_watched: dict[int, subprocess.Popen[bytes]] = {}  # server pid -> its watchdog (kept: no ResourceWarning)


def watch_temporary_api() -> int | None:
    """Start the watchdog for this process's temporary Prefect API server, once per server.

    Returns:
        The watchdog's pid, or None: no temporary server runs in this process, it is watched already, or
        this platform has no pidfds.
    """
    if not hasattr(os, "pidfd_open"):
        return None
    from prefect.server.api.server import SubprocessASGIServer

    server = SubprocessASGIServer()  # the running singleton get_client started (or an idle one)
    process = server.server_process
    if process is None or process.poll() is not None or process.pid in _watched:
        return None
    cli_fd = os.pidfd_open(os.getpid())
    server_fd = os.pidfd_open(process.pid)
    try:
        watchdog = subprocess.Popen(
            [sys.executable, "-I", "-c", _WATCHDOG, str(cli_fd), str(server_fd)],
            pass_fds=(cli_fd, server_fd),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # a Ctrl-C in the terminal does not reach it before it has work to do
        )
    finally:
        os.close(cli_fd)
        os.close(server_fd)
    _watched[process.pid] = watchdog
    return watchdog.pid
