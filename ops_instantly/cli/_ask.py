"""Questions to the person at the terminal: the one home for how a command asks.

The rule: a question goes to stderr, never stdout (stdout is the command's result, a JSON document with
--json); it is asked only when standard input is a terminal; and a question nobody can answer (no terminal,
end of input) or answered no is the usual one-line `error: ...` naming the option that skips it.
"""

from __future__ import annotations

import getpass
import sys

import typer

from ops_instantly.errors import OpsError

__all__ = ["ask_secret", "confirm", "stdin_is_terminal"]


def stdin_is_terminal() -> bool:
    """True when standard input is a terminal someone can type into."""
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (OSError, ValueError):  # closed, or replaced by a test runner
        return False


def confirm(question: str, *, refused: str, skip: str) -> None:
    """Ask `question [y/N]` on stderr and return on yes; anything but an answer is a refusal.

    Args:
        question: The question, e.g. "Delete campaign 'Q3' (019f…, Draft)?".
        refused: What did not happen, for the error: "Campaign 'Q3' not deleted".
        skip: The hint that answers in advance: "pass --yes to delete it without asking".

    Raises:
        OpsError: standard input is not a terminal (a script, a pipe: `echo y |` is no answer), input ended
            (Ctrl-D), or the answer was no (or empty: no is the default); nothing was done.
    """
    if not stdin_is_terminal():
        raise OpsError(f"{refused}: no terminal to confirm in.", hint=skip)
    while True:
        typer.echo(f"{question} [y/N]: ", nl=False, err=True)
        try:
            answer = sys.stdin.readline()
        except KeyboardInterrupt:
            typer.echo(err=True)  # "Interrupted." on a line of its own
            raise
        if not answer:  # end of input
            typer.echo(err=True)
            raise OpsError(f"{refused}: no answer.", hint=skip)
        answer = answer.strip().lower()
        if answer in ("y", "yes"):
            return
        if answer in ("", "n", "no"):
            raise OpsError(f"{refused}: not confirmed.", hint=skip)
        typer.echo("Please answer y or n.", err=True)


def ask_secret(question: str) -> str:
    """Ask for a secret without echoing it: the question on stderr, the answer from the terminal.

    The caller checks `stdin_is_terminal()` first and says what to do instead when it is not.
    """
    try:
        return getpass.getpass(f"{question}: ", stream=sys.stderr)
    except EOFError:
        typer.echo(err=True)
        return ""
    except KeyboardInterrupt:
        typer.echo(err=True)  # getpass ends no line on Ctrl-C
        raise
