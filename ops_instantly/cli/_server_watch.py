"""Prefect's temporary API server: Ctrl-C does not kill it under a running flow, and it dies with the CLI
process, even after `kill -9`.

Ctrl-C in a terminal sends SIGINT to the whole foreground process group, so the temporary server (a child
of the CLI) got it too and died while the flow was still running: the flow then tried to report its end to
a dead API, retried for one to three minutes and printed "Connection refused" and "Error logging to API"
instead of `Interrupted.`. So `start_temporary_api` starts the server from a thread that blocks SIGINT: a
child inherits its parent thread's signal mask, so the server never sees the terminal's Ctrl-C (SIGTERM,
which Prefect's exit hook and the watchdog send, still stops it), while the CLI's main thread still gets it.

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
import signal
import subprocess
import sys
import threading

__all__ = ["start_temporary_api", "watch_temporary_api"]

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


def start_temporary_api() -> None:
    """Start Prefect's temporary API server (the singleton `get_client` then uses) with SIGINT blocked in it.

    Waits for it like Prefect does (20-30 s on a small machine); a Ctrl-C meanwhile interrupts the wait at
    once. Raises what Prefect's start raises (RuntimeError when the server does not come up).
    """
    from prefect.server.api.server import SubprocessASGIServer

    server = SubprocessASGIServer()
    failed: list[BaseException] = []

    def start() -> None:
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})  # this thread only, and its children
        try:
            server.start()
        except BaseException as exc:  # handed to the caller's thread below
            failed.append(exc)

    starter = threading.Thread(target=start, name="prefect-temporary-api", daemon=True)
    starter.start()
    while starter.is_alive():
        starter.join(0.1)  # short waits: the main thread takes a Ctrl-C between them
    if failed:
        raise failed[0]


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
