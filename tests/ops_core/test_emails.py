"""The one email normaliser: its Python and SQL forms agree on white space and invisible characters."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ops_core.emails import INVISIBLE_CHARACTERS, email_key_sql, normalise_email

ALL_SPACES = [chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace()]
INVISIBLES = [c for c in map(chr, range(0x10000)) if re.fullmatch(f"[{INVISIBLE_CHARACTERS}]", c)]
# What an email cell holds after copy-paste: address characters, case, accents, white space, invisibles.
EMAIL_TEXT = st.text(
    alphabet=st.sampled_from([*"abcXYZ019@.+-_'", *"ÄéßØ", *ALL_SPACES, *INVISIBLES]), max_size=24
)
PROPERTY = settings(max_examples=400, deadline=None, derandomize=True)


@pytest.mark.parametrize(
    "raw",
    ["ann@example.com\u200b", "\ufeffann@example.com", "\u00a0Ann@Example.com\u00a0", "an\u200bn@example.com",
     "ann@exa\u200dmple.com\u2060", "\u200e ann@example.com\t", "ann\u00ad@example.com", "\x1cann@example.com\x1f"],
)  # fmt: skip
def test_invisible_characters_and_edge_white_space_are_removed(raw: str) -> None:
    assert normalise_email(raw) == "ann@example.com"


@pytest.mark.parametrize("value", [None, "", "  \t", "\u200b\u00a0", 5, b"a@b.co"])
def test_blank_and_non_text_values_have_no_key(value: object) -> None:
    assert normalise_email(value) is None


@PROPERTY
@given(EMAIL_TEXT)
def test_normalising_twice_changes_nothing(raw: str) -> None:
    once = normalise_email(raw)
    assert normalise_email(once) == once


@pytest.fixture(scope="module")
def duck() -> Iterator[duckdb.DuckDBPyConnection]:
    with duckdb.connect() as con:
        yield con


@PROPERTY
@given(EMAIL_TEXT)
def test_duckdb_computes_the_same_key(duck: duckdb.DuckDBPyConnection, raw: str) -> None:
    row = duck.execute(f"SELECT {email_key_sql('CAST(? AS VARCHAR)')}", [raw]).fetchone()
    assert row is not None and row[0] == normalise_email(raw)


@pytest.fixture(scope="module")
def pg(postgres_url: str) -> Iterator[object]:
    import psycopg

    with psycopg.connect(postgres_url, autocommit=True) as con:
        yield con


@PROPERTY
@given(EMAIL_TEXT)
def test_postgres_computes_the_same_key_for_the_write_back(pg: object, raw: str) -> None:
    # The write-back matches Postgres rows on this expression against keys computed in Python.
    row = pg.execute(f"SELECT {email_key_sql('CAST(%s AS text)')}", [raw]).fetchone()  # type: ignore[attr-defined]
    assert row is not None and row[0] == normalise_email(raw), repr(raw)
