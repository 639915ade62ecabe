"""User-facing errors: each one prints as a single line naming the problem and what to do.

The CLI re-exports these from `ops_instantly.errors`; every layer below it raises `OpsError` from here.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = ["OpsError", "did_you_mean", "first_line", "one_line"]


class OpsError(Exception):
    """A problem with the user's input or environment, reported as one line (never a traceback)."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        self.message = " ".join(message.split())
        self.hint = " ".join(hint.split()) if hint else None
        super().__init__(self.message if not self.hint else f"{self.message} ({self.hint})")


def one_line(exc: BaseException) -> str:
    """Render any exception as one line, with its hint when it has one."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    hint = getattr(exc, "hint", None)
    if hint and hint not in text:
        text = f"{text} Hint: {hint}"
    return text


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (a database error's detail lines dropped), or its type."""
    lines = str(exc).strip().splitlines()
    return lines[0].strip() if lines else type(exc).__name__


def did_you_mean(name: str, names: Iterable[str]) -> str:
    """` (did you mean 'X'?)` naming the closest of `names` to an unknown `name`, or "" when none is close.

    Case is ignored in the comparison (`q3 founders` is close to `Q3 founders`); the suggestion is spelt as
    in `names`.
    """
    spelt: dict[str, str] = {}
    for known in names:
        spelt.setdefault(known.lower(), known)
    found = difflib.get_close_matches(name.lower(), list(spelt), n=1, cutoff=0.6)
    return f" (did you mean {spelt[found[0]]!r}?)" if found else ""
