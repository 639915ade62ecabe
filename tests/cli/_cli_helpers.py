"""Run `ops-instantly` in-process, as a user would, and capture its exit code and output."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from ops_instantly.cli import main


@dataclass
class Result:
    code: int
    out: str
    err: str


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> Result:
    """Invoke the CLI with `args`; never lets a SystemExit (or anything else) escape."""
    capsys.readouterr()  # drop earlier output
    with pytest.raises(SystemExit) as exc:
        main(list(args))
    captured = capsys.readouterr()
    code = exc.value.code
    return Result(
        code=int(code) if isinstance(code, int) else (0 if code is None else 1),
        out=captured.out,
        err=captured.err,
    )


def assert_one_line_error(result: Result, *fragments: str) -> None:
    """A failed command: non-zero exit, exactly one line on stderr naming each fragment, no traceback."""
    assert result.code != 0, result
    lines = [line for line in result.err.splitlines() if line.strip()]
    assert len(lines) == 1, result.err
    assert "Traceback" not in result.err + result.out
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
