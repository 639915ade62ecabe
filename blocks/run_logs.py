"""A failed run's logs open with one readable line, not three tracebacks.

When a flow or task raises, Prefect logs the exception with its traceback once per level it passes through:
the task run ("Task run failed with exception"), the flow run ("Encountered exception during execution") and
the engine ("Engine execution exited with unexpected exception"). For an error that is the user's input or
environment (a misspelt block name, a missing global concurrency limit, a source table that vanished: an
`OpsError`, or an API refusal such as HTTP 401), the traceback says nothing the message does not, and
three of them bury the message in the UI. This filter rewrites the first such record of each run to one line,
the error and its hint, and drops the repeats of the same exception in that run. Unexpected errors keep their tracebacks;
so does everything when OPS_DEBUG=1.
"""

from __future__ import annotations

import contextlib
import logging
import os

from ops_core.errors import OpsError, one_line

# The loggers Prefect's flow and task engines report failures on (their API handler sends them to the UI).
RUN_LOGGERS = ("prefect.flow_runs", "prefect.task_runs")
_MARK = "_ops_instantly_logged"


def is_expected(exc: BaseException) -> bool:
    """True for errors that are the user's input or environment, whose message says it all."""
    if isinstance(exc, OpsError):
        return True
    from instantly_client.errors import AmbiguousNameError, InstantlyError, NotFoundError

    # A name that matches no campaign, or several (a lookup by name, no HTTP status): the user's input.
    if isinstance(exc, NotFoundError | AmbiguousNameError):
        return True
    # A refusal the API explained (401 key, 402 plan, 403 scope, 404, 422 ...): not a bug of ours.
    return isinstance(exc, InstantlyError) and getattr(exc, "status_code", None) is not None


class OneLineRunErrors(logging.Filter):
    """Rewrites the first log record of an expected error in each run to one line; drops its repeats.

    A subflow's error reaches its parent as the same exception object: the child run and the parent run
    (the one the user launched) each get their one line. A task that failed that way also logs "Finished in
    state Failed(...)" at ERROR, the same message again: that record is dropped too (the task's state shows it).
    """

    def __init__(self) -> None:
        super().__init__()
        self._failed_tasks: set[object] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if os.environ.get("OPS_DEBUG"):
            return True
        task_run = getattr(record, "task_run_id", None)
        if exc is None:
            finished = str(record.msg).startswith("Finished in state")
            return not (finished and task_run is not None and task_run in self._failed_tasks)
        if not is_expected(exc):
            return True
        if task_run is not None:
            self._failed_tasks.add(task_run)
        run = getattr(record, "flow_run_id", None)
        seen: set[object] = getattr(exc, _MARK, set())
        if run in seen:
            return False  # the same exception, re-logged by an outer level of the same run
        with contextlib.suppress(AttributeError):  # a type with __slots__: one line, repeats not dropped
            setattr(exc, _MARK, seen | {run})
        record.msg = f"Failed: {one_line(exc)}"
        record.args = ()
        record.exc_info = None
        record.exc_text = None
        return True


_FILTER = OneLineRunErrors()


def install() -> None:
    """Add the filter to Prefect's flow-run and task-run loggers (idempotent)."""
    for name in RUN_LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
