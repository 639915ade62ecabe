"""White space: SQL's trim as Python's str.strip() sees it, in DuckDB and Postgres."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ops_core.text import WHITESPACE, trim_sql

ALL_SPACES = [chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace()]
CELL_TEXT = st.text(alphabet=st.sampled_from([*"ab Z9-_'", "\u00e9", "\u200b", *ALL_SPACES]), max_size=16)
PROPERTY = settings(max_examples=300, deadline=None, derandomize=True)


def test_the_set_is_exactly_what_python_calls_white_space() -> None:
    assert sorted(WHITESPACE) == ALL_SPACES
    assert "-" not in WHITESPACE and "]" not in WHITESPACE and "\\" not in WHITESPACE  # safe in a [class]


@pytest.fixture(scope="module")
def duck() -> Iterator[duckdb.DuckDBPyConnection]:
    with duckdb.connect() as con:
        yield con


@PROPERTY
@given(CELL_TEXT)
def test_duckdb_trims_what_python_strips(duck: duckdb.DuckDBPyConnection, raw: str) -> None:
    assert duck.execute(f"SELECT {trim_sql('CAST(? AS VARCHAR)')}", [raw]).fetchone() == (raw.strip(),)


@pytest.fixture(scope="module")
def pg(postgres_url: str) -> Iterator[object]:
    import psycopg

    with psycopg.connect(postgres_url, autocommit=True) as con:
        yield con


@PROPERTY
@given(CELL_TEXT)
def test_postgres_trims_what_python_strips(pg: object, raw: str) -> None:
    row = pg.execute(f"SELECT {trim_sql('CAST(%s AS text)')}", [raw]).fetchone()  # type: ignore[attr-defined]
    assert row == (raw.strip(),), repr(raw)


NAMES = st.text(
    alphabet=st.sampled_from([*"ab Z9-_/", "'", '"', "\\", "$", "`", "!", "\t", "\u00e9"]), max_size=12
)


@PROPERTY
@given(NAMES)
def test_a_quoted_name_pastes_back_into_a_shell_as_itself(name: str) -> None:
    import shlex

    from ops_core.text import quoted

    assert shlex.split(quoted(name)) == [name]


def test_plain_names_are_quoted_as_python_would() -> None:
    from ops_core.text import quoted

    for name in ("Q3 founders outreach", "O'Reilly", "Café 😀", ""):
        assert quoted(name) == repr(name)
    assert quoted("a/b\\c") == "'a/b\\c'"  # repr would double the backslash


@pytest.mark.parametrize(
    ("n", "words", "expected"),
    [
        (1, ("reply", "replies"), "1 reply"),
        (0, ("reply", "replies"), "0 replies"),
        (2, ("reply", "replies"), "2 replies"),
        (1, ("row",), "1 row"),
        (1200, ("row",), "1,200 rows"),
        (1, ("failed delivery", "failed deliveries"), "1 failed delivery"),
    ],
)
def test_counted_gives_a_count_its_noun(n: int, words: tuple[str, ...], expected: str) -> None:
    from ops_core.text import counted

    assert counted(n, *words) == expected
