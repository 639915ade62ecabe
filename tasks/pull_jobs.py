"""A thread pool whose jobs may add more jobs (the leads pull's open-ended chain splits itself)."""

from __future__ import annotations

import heapq
import itertools
import threading
from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from typing import Any


class Jobs:
    """Run jobs on `workers` threads; `add` works from inside a job too, and `first` jobs start next.

    `join` returns once every job, added before or during the run, is done, and raises the first failure
    after cancelling the jobs not yet started (a failure such as an expired key would fail them all).
    """

    def __init__(self, workers: int, name: str = "pull") -> None:
        self._pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix=name)
        self._futures: list[Future[Any]] = []
        self._waiting: list[tuple[int, int, Callable[..., Any], tuple[Any, ...]]] = []  # a heap
        self._order = itertools.count()
        self._lock = threading.Lock()
        self._name = name

    def add(self, run: Callable[..., Any], *args: Any, first: bool = False) -> None:
        """Queue `run(*args)`; with `first`, ahead of the jobs queued without it."""
        with self._lock:
            heapq.heappush(self._waiting, (0 if first else 1, next(self._order), run, args))
            # Each pool task runs whichever job is first in line when a thread takes it up.
            self._futures.append(self._pool.submit(self._next))

    def start_now(self, run: Callable[..., Any], *args: Any, **kwargs: Any) -> Future[Any]:
        """Run `run(*args, **kwargs)` on a thread of its own, now, instead of waiting for one of the pool's."""
        future: Future[Any] = Future()
        future.set_running_or_notify_cancel()

        def target() -> None:
            try:
                future.set_result(run(*args, **kwargs))
            except BaseException as exc:  # handed to join, as a pool thread's would be
                future.set_exception(exc)

        with self._lock:
            self._futures.append(future)
        threading.Thread(target=target, name=f"{self._name}-now", daemon=True).start()
        return future

    def _next(self) -> Any:
        with self._lock:
            _, _, run, args = heapq.heappop(self._waiting)
        return run(*args)

    def join(self) -> None:
        try:
            while True:
                with self._lock:
                    futures = list(self._futures)
                done, pending = wait(futures, return_when=FIRST_EXCEPTION)
                failed = [e for f in done if not f.cancelled() and (e := f.exception()) is not None]
                if failed:
                    with self._lock:
                        for future in self._futures:
                            future.cancel()
                    wait(futures)
                    raise failed[0]
                with self._lock:
                    if not pending and len(self._futures) == len(futures):
                        return
        finally:
            self._pool.shutdown(wait=True, cancel_futures=True)


def run_all(jobs: list[Any], run: Callable[[Any], None], workers: int) -> None:
    """Run `run(job)` for every job on `workers` threads; the first failure is raised once they stopped."""
    if not jobs:
        return
    pool = Jobs(workers)
    for job in jobs:
        pool.add(run, job)
    pool.join()
