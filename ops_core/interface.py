"""How a message names an input: as the user's interface spells it.

The same inputs reach the flows from two interfaces: the command line (`ops-instantly push --source FILE
--campaign NAME`) and flow parameters (the Prefect UI's run form, a deployment's schedule, a Python caller:
`source`, `campaigns`). Shared code (tasks, flows, warehouse, blocks) raises the errors, so it asks here how
to name an input: `option("source")` is `--source` in the CLI and "the `source` parameter" elsewhere.

Only the CLI knows it is the CLI: it runs the flows in its own process, so "inside a flow run" says nothing.
`ops_instantly.cli.main` marks the process with `cli_interface()` while a command runs; everything else
(a worker, the UI's runs, tests calling a flow) names parameters.

Example:
    ```python
    raise OpsError(f"{capitalized(option('table'))} is needed.", hint=set_option("table", metavar="NAME", verb="add"))
    # CLI:       --table is needed. (add --table NAME)
    # elsewhere: The `table` parameter is needed. (set the `table` parameter)
    ```
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

__all__ = [
    "CLI_FLAGS",
    "NO_CLI_FLAG",
    "bare_option",
    "capitalized",
    "cli_interface",
    "flag",
    "in_cli",
    "option",
    "option_value",
    "set_option",
]

# A flow parameter -> the `ops-instantly` option that sets it (ops_instantly/cli/*.py; tests/ops_core/
# test_interface.py checks each against the commands and the flows' signatures).
CLI_FLAGS: dict[str, str] = {
    "batch_size": "--batch-size",  # push
    "by": "--by",  # report
    "campaigns": "--campaign",  # push, sync, report (repeatable)
    "catch_up": "--catch-up",  # webhooks ingest
    "catch_up_since": "--since",  # webhooks replay
    "credentials": "--credentials",  # a block's name on the command line, the block itself as a parameter
    "dry_run": "--dry-run",  # push
    "force": "--force",  # campaigns activate
    "key_column": "--key",  # push
    "lookback_days": "--lookback-days",  # sync
    "mapping_file": "--mapping",  # push
    "name": "--name",  # campaigns duplicate
    "out": "--out",  # report
    "postgres_source": "--source-block",  # push
    "query": "--query",  # push
    "sheet": "--sheet",  # push
    "since": "--since",  # sync
    "skip_if": "--skip-if",  # push
    "source": "--source",  # push
    "spool_dir": "--spool",  # webhooks ingest, replay
    "table": "--table",  # push
    "timeout_seconds": "--timeout",  # push
    "wait_seconds": "--wait",  # push
    "warehouse": "--warehouse",  # every command that runs a flow
    "write_back_tables": "--write-back-table",  # sync (repeatable)
    "write_back_to": "--source-block",  # sync, with --write-back
}

# Flow parameters no option sets as such: in-process only (an unsaved block holding a password), fixed by
# the command, or set through another input (a campaign file, a positional argument, a subcommand).
NO_CLI_FLAG = frozenset(
    {
        "postgres",  # push --source postgresql://user:password@... travels in an unsaved block
        "write_back_postgres",  # sync --source-url, likewise
        "lock_timeout_seconds",  # sync, webhooks: the flow's default
        "leads_per_chain",  # sync: the flow's default
        "keep_done_days",  # webhooks: the flow's default
        "action",  # manage-campaigns: the `campaigns` subcommand
        "campaign",  # campaigns activate/pause/...: the ID_OR_NAME argument
        "spec",  # campaigns create: --file or the options
        "changes",  # campaigns update: --file or the options
    }
)

_in_cli = False  # a plain global, not a ContextVar: the push plans on threads of its own


@contextmanager
def cli_interface() -> Iterator[None]:
    """Name inputs as `ops-instantly` options while this block runs (the CLI's `main`), then as before."""
    global _in_cli
    before, _in_cli = _in_cli, True
    try:
        yield
    finally:
        _in_cli = before


def in_cli() -> bool:
    """Whether the user gave the inputs as `ops-instantly` options (else as flow parameters)."""
    return _in_cli


def flag(name: str) -> str:
    """The option that sets the flow parameter `name` (`postgres_source` -> `--source-block`)."""
    return CLI_FLAGS.get(name) or "--" + name.replace("_", "-")


def option(*names: str, metavar: str = "", conj: str = "or") -> str:
    """The input(s) as a noun: `--table NAME` / "the `table` parameter"; several joined by `conj` ("or",
    "and", or "/"): `--table or --query` / "the `table` or `query` parameter".

    `metavar` (one name only) is what follows the option on the command line; parameters show none.
    """
    if _in_cli:
        flags = [flag(n) for n in names]
        text = _join(flags, conj)
        return f"{text} {metavar}" if metavar else text
    words = _join([f"`{n}`" for n in names], conj)
    plural = len(names) > 1 and conj != "or"
    return f"the {words} parameter{'s' if plural else ''}"


def bare_option(name: str, metavar: str = "") -> str:
    """The input's name alone, for use as an adjective or in parentheses: "the --source path" / "the
    `source` path", "(or --source-block NAME)" / "(or `postgres_source`)"."""
    if _in_cli:
        return f"{flag(name)} {metavar}" if metavar else flag(name)
    return f"`{name}`"


def set_option(*names: str, metavar: str = "", verb: str = "pass") -> str:
    """An instruction to give the input(s): `pass --source PATH` / "set the `source` parameter"; several:
    `pass --source and --campaign` / "set the `source` and `campaigns` parameters"."""
    if _in_cli:
        return f"{verb} {option(*names, metavar=metavar, conj='and')}"
    return f"set {option(*names, conj='and')}"


def option_value(name: str, value: str) -> str:
    """The input given a value: `--skip-if none` / "the `skip_if` parameter set to none"."""
    if _in_cli:
        return f"{flag(name)} {value}"
    return f"{option(name)} set to {value}"


def capitalized(text: str) -> str:
    """`text` to start a sentence: "The `table` parameter ..." (an option, `--table`, stays as it is)."""
    return text[:1].upper() + text[1:]


def _join(items: list[str], conj: str) -> str:
    if conj == "/":
        return "/".join(items)
    if len(items) <= 2:
        return f" {conj} ".join(items)
    return ", ".join(items[:-1]) + f" {conj} " + items[-1]
