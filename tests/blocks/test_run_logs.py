"""A failed run's logs: an input error is one line per run, with no traceback; a bug keeps its traceback."""

from __future__ import annotations

import logging
import sys

import pytest

from blocks.run_logs import OneLineRunErrors
from instantly_client.errors import AmbiguousNameError, NotFoundError
from ops_core.errors import OpsError


def _record(exc: BaseException, run: str) -> logging.LogRecord:
    try:
        raise exc
    except BaseException:
        record = logging.LogRecord(
            "prefect.flow_runs",
            logging.ERROR,
            __file__,
            1,
            "Encountered exception: %r",
            (exc,),
            sys.exc_info(),
        )
    record.flow_run_id = run
    return record


def test_an_input_error_becomes_one_line_once_per_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPS_DEBUG", raising=False)
    flt = OneLineRunErrors()
    exc = OpsError("No such file: leads.csv.", hint="check the --source path")
    child, again, parent = _record(exc, "child"), _record(exc, "child"), _record(exc, "parent")
    assert flt.filter(child) is True
    assert child.getMessage() == "Failed: No such file: leads.csv. (check the --source path)"
    assert child.exc_info is None
    assert flt.filter(again) is False  # the engine re-logging the same exception in the same run
    assert flt.filter(parent) is True  # the launched run gets its own line
    assert parent.exc_info is None


def test_a_failed_tasks_finished_line_is_dropped_after_its_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPS_DEBUG", raising=False)
    flt = OneLineRunErrors()
    failed = _record(OpsError("No such file: leads.csv."), "run")
    failed.task_run_id = "task-1"
    finished = logging.LogRecord(
        "prefect.task_runs", logging.ERROR, __file__, 1, "Finished in state Failed('No such file')", (), None
    )
    finished.task_run_id = "task-1"
    other = logging.LogRecord(
        "prefect.task_runs", logging.ERROR, __file__, 1, "Finished in state Failed('bug')", (), None
    )
    other.task_run_id = "task-2"
    assert flt.filter(failed) is True
    assert flt.filter(finished) is False  # the same failure, said again without its hint
    assert flt.filter(other) is True  # a task that failed otherwise keeps its line


def test_an_unexpected_error_keeps_its_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPS_DEBUG", raising=False)
    record = _record(KeyError("bug"), "run")
    assert OneLineRunErrors().filter(record) is True
    assert record.exc_info is not None
    assert "Encountered exception" in record.getMessage()


def test_ops_debug_keeps_every_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPS_DEBUG", "1")
    record = _record(OpsError("bad input"), "run")
    assert OneLineRunErrors().filter(record) is True
    assert record.exc_info is not None


@pytest.mark.parametrize(
    "exc",
    [
        NotFoundError("no campaign named 'Q3 founder outreach' (did you mean 'Q3 founders outreach'?)"),
        AmbiguousNameError("2 campaigns are named 'Q3' (ids: a, b)"),
    ],
)
def test_a_campaign_name_that_matches_none_or_several_is_one_line(
    monkeypatch: pytest.MonkeyPatch, exc: Exception
) -> None:
    # A sync run from the UI with a misspelt campaign logged three tracebacks: the lookup's error has no
    # HTTP status, and was taken for a bug.
    monkeypatch.delenv("OPS_DEBUG", raising=False)
    record = _record(exc, "run")
    assert OneLineRunErrors().filter(record) is True
    assert record.exc_info is None
    assert record.getMessage().startswith("Failed: ")
