"""White space, the same in Python and SQL: Python's str.strip() and what SQL's trim() should have been;
names as a user can paste them back into a command; counts with their noun (`1 reply`, `2 replies`).

SQL's `trim(x)` removes only the space character, so a cell holding a tab or a no-break space is blank to
Python and not blank to DuckDB or Postgres. `trim_sql` trims what `str.strip()` trims.
"""

from __future__ import annotations

import shlex

__all__ = ["WHITESPACE", "counted", "has_text_sql", "quoted", "trim_sql"]

# Every character Python's str.isspace() accepts (the last is U+3000): ASCII white space, the separators
# U+001C-U+001F, no-break space, the Unicode spaces. Usable as it is in a regular-expression character class
# (Python, DuckDB, Postgres) and as polars' strip_chars argument.
WHITESPACE = "".join(c for c in map(chr, range(0x3001)) if c.isspace())


def trim_sql(text_sql: str) -> str:
    """`str.strip()` as a SQL expression over a text expression (DuckDB and Postgres alike).

    Args:
        text_sql: a SQL expression of type VARCHAR/text, e.g. `CAST(s."Fax" AS VARCHAR)`.
    """
    return f"regexp_replace({text_sql}, '^[{WHITESPACE}]+|[{WHITESPACE}]+$', '', 'g')"


def has_text_sql(text_sql: str) -> str:
    """Whether `str.strip()` would leave anything (a character that is not white space), as a DuckDB
    expression; NULL stays NULL. Cheaper than comparing `trim_sql` with '': nothing is copied, and the match
    usually ends at the first character.

    Args:
        text_sql: a SQL expression of type VARCHAR, e.g. `CAST(s."Fax" AS VARCHAR)`.
    """
    return f"regexp_matches({text_sql}, '[^{WHITESPACE}]')"


def quoted(name: str) -> str:
    """`name` in quotes, as it can be pasted back into a shell command (a campaign name in a message).

    Python's repr (`'Q3 founders'`, `"O'Reilly"`) when a POSIX shell reads it as the same text, else
    `shlex.quote`: repr doubles a backslash (`'a\\\\b'`) and, in double quotes, leaves `$` for the shell.
    """
    shown = repr(name)
    literal = shown[1:-1] == name  # no escape added (a backslash, a quote of the other kind, a control char)
    if literal and (shown[0] == "'" or not any(c in name for c in '$`!\\"')):
        return shown
    return shlex.quote(name)


def counted(n: int, singular: str, plural: str | None = None) -> str:
    """`n` with its noun: `counted(1, "reply", "replies")` is `1 reply`, `counted(2, "row")` is `2 rows`
    (the plural is `singular + "s"` unless given); thousands separated (`1,200 rows`)."""
    return f"{n:,} {singular if n == 1 else plural or singular + 's'}"
