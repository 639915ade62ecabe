"""Quoting for SQL text built in Python (DuckDB and Postgres share these rules)."""

from __future__ import annotations

__all__ = ["quote_ident", "quote_literal", "quote_qualified"]


def quote_ident(name: str) -> str:
    """A SQL identifier, double-quoted, embedded double quotes doubled: `a"b` -> `"a""b"`."""
    return '"' + name.replace('"', '""') + '"'


def quote_qualified(name: str) -> str:
    """A dotted name with each part quoted: `ops.prospects` -> `"ops"."prospects"`."""
    return ".".join(quote_ident(part) for part in name.split("."))


def quote_literal(value: str | int) -> str:
    """A SQL literal: a string single-quoted with embedded quotes doubled, an integer as digits.

    Raises:
        TypeError: anything else (a bool, a float): never guess how it should read in SQL.
    """
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise TypeError(f"quote_literal takes a str or an int, not {type(value).__name__}")
