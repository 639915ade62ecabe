"""Inputs named as the user's interface names them: `--source` in the CLI, the `source` parameter elsewhere."""

from __future__ import annotations

import pytest

from ops_core.interface import (
    CLI_FLAGS,
    bare_option,
    capitalized,
    cli_interface,
    in_cli,
    option,
    option_value,
    set_option,
)

# Every mapped flow parameter and the option that sets it (read from ops_instantly/cli/*.py; written out
# here, not derived from CLI_FLAGS, so a changed entry fails).
NAMES = [
    ("batch_size", "--batch-size"),
    ("by", "--by"),
    ("campaigns", "--campaign"),
    ("catch_up", "--catch-up"),
    ("catch_up_since", "--since"),
    ("credentials", "--credentials"),
    ("dry_run", "--dry-run"),
    ("force", "--force"),
    ("key_column", "--key"),
    ("lookback_days", "--lookback-days"),
    ("mapping_file", "--mapping"),
    ("name", "--name"),
    ("out", "--out"),
    ("postgres_source", "--source-block"),
    ("query", "--query"),
    ("sheet", "--sheet"),
    ("since", "--since"),
    ("skip_if", "--skip-if"),
    ("source", "--source"),
    ("spool_dir", "--spool"),
    ("table", "--table"),
    ("timeout_seconds", "--timeout"),
    ("wait_seconds", "--wait"),
    ("warehouse", "--warehouse"),
    ("write_back_tables", "--write-back-table"),
    ("write_back_to", "--source-block"),
]


def test_the_table_covers_every_mapped_name() -> None:
    assert dict(NAMES) == CLI_FLAGS


@pytest.mark.parametrize(("parameter", "cli_flag"), NAMES)
def test_each_input_is_its_option_in_the_cli_and_its_parameter_elsewhere(
    parameter: str, cli_flag: str
) -> None:
    assert option(parameter) == f"the `{parameter}` parameter"
    assert bare_option(parameter) == f"`{parameter}`"
    assert set_option(parameter, metavar="X") == f"set the `{parameter}` parameter"
    with cli_interface():
        assert option(parameter) == cli_flag
        assert option(parameter, metavar="X") == f"{cli_flag} X"
        assert bare_option(parameter) == cli_flag
        assert set_option(parameter, metavar="X") == f"pass {cli_flag} X"


def test_the_phrases_read_as_one_line_in_both_interfaces() -> None:
    def both(make: object) -> tuple[str, str]:
        assert callable(make)
        with cli_interface():
            cli = make()
        return cli, make()

    assert both(lambda: f"{capitalized(option('table'))} is needed.") == (
        "--table is needed.",
        "The `table` parameter is needed.",
    )
    assert both(lambda: set_option("table", metavar="NAME", verb="add")) == (
        "add --table NAME",
        "set the `table` parameter",
    )
    assert both(lambda: f"needs {option('table', 'query')}") == (
        "needs --table or --query",
        "needs the `table` or `query` parameter",
    )
    assert both(lambda: f"check {option('table', 'query', conj='/')}") == (
        "check --table/--query",
        "check the `table`/`query` parameters",
    )
    assert both(lambda: set_option("source", "campaigns")) == (
        "pass --source and --campaign",
        "set the `source` and `campaigns` parameters",
    )
    assert both(lambda: f"(or {bare_option('postgres_source', metavar='NAME')})") == (
        "(or --source-block NAME)",
        "(or `postgres_source`)",
    )
    assert both(lambda: option_value("skip_if", "none")) == (
        "--skip-if none",
        "the `skip_if` parameter set to none",
    )


def test_the_cli_mark_holds_only_inside_its_block_even_when_it_raises() -> None:
    assert not in_cli()
    with pytest.raises(RuntimeError), cli_interface():
        assert in_cli()
        with cli_interface():  # nested: still the CLI when the inner block ends
            pass
        assert in_cli()
        raise RuntimeError
    assert not in_cli()
