"""Quoting SQL names and literals: what DuckDB reads back is what was quoted."""

from __future__ import annotations

import duckdb
import pytest

from ops_core.sql import quote_ident, quote_literal, quote_qualified


@pytest.mark.parametrize("name", ["email", 'we"ird', "Job Title", "ß-ü", "a.b"])
def test_a_quoted_identifier_names_exactly_that_column(name: str) -> None:
    with duckdb.connect() as con:
        con.execute(f"CREATE TABLE t ({quote_ident(name)} INTEGER)")
        assert con.execute("SELECT column_name FROM information_schema.columns").fetchall() == [(name,)]


@pytest.mark.parametrize("value", ["", "it's", "''", "a\\nb", "ünï"])
def test_a_quoted_literal_reads_back_as_the_same_text(value: str) -> None:
    with duckdb.connect() as con:
        assert con.execute(f"SELECT {quote_literal(value)}").fetchone() == (value,)


def test_integers_are_digits_and_other_types_are_refused() -> None:
    assert quote_literal(-2) == "-2"
    with pytest.raises(TypeError):
        quote_literal(True)
    with pytest.raises(TypeError):
        quote_literal(1.5)  # type: ignore[arg-type]


def test_a_dotted_name_is_quoted_part_by_part() -> None:
    assert quote_qualified('ops.pro"spects') == '"ops"."pro""spects"'
