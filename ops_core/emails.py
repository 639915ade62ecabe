"""The one email normaliser: the push's dedupe and row key, the pull's join key, the webhook events' key.

`normalise_email` (Python) and `email_key_sql` (the same rule as a SQL expression, for DuckDB and Postgres)
must agree on every input, or a lead pushed under one key is looked up under another:
tests/ops_core/test_emails.py checks both against each other with Hypothesis.
"""

from __future__ import annotations

import re

from ops_core.text import trim_sql

__all__ = ["INVISIBLE_CHARACTERS", "email_key_sql", "normalise_email"]

# Characters that never belong in an email address but survive copy-paste from web pages, Word and Excel:
# zero-width space/joiners, word joiner, BOM, soft hyphen, bidi marks. Removed anywhere in an email.
INVISIBLE_CHARACTERS = "\u00ad\u180e\u200b\u200c\u200d\u200e\u200f\u202a-\u202e\u2060-\u2064\ufeff"
_INVISIBLE = re.compile(f"[{INVISIBLE_CHARACTERS}]")


def normalise_email(text: object) -> str | None:
    """The email without invisible characters, trimmed of white space (`str.strip()`), lower-cased; None when blank.

    Args:
        text: the email as text; anything that is not a string gives None (a source cell goes through
            `tasks.mapping.normalise_email`, which turns numbers and other values into text first).
    """
    if not isinstance(text, str) or not text:
        return None
    return _INVISIBLE.sub("", text).strip().lower() or None  # strip(): ops_core.text.trim_sql in SQL


def email_key_sql(column_sql: str) -> str:
    """`normalise_email` as a SQL expression over a text expression (DuckDB and Postgres alike).

    Args:
        column_sql: a SQL expression of type VARCHAR/text, e.g. `CAST(s."Email" AS VARCHAR)`.
    """
    invisible = f"regexp_replace({column_sql}, '[{INVISIBLE_CHARACTERS}]', '', 'g')"
    return f"NULLIF(lower({trim_sql(invisible)}), '')"
