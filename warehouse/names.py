"""Names made from what people type: a column header or a `--table` as a snake-case ASCII identifier; and
which source column names the engagement views' own columns would clash with.

One home for each rule: the first is used by the mapping (custom variable names), the extract (the warehouse
table a source lands in) and the connections (which warehouse table a `--table` names, however spelled); the
second by the extract (which refuses such a source), the views (which put theirs in its place) and the
mapping (which leaves a written-back engagement column out of the leads).
"""

from __future__ import annotations

import re
import unicodedata

from anyascii import anyascii

from ops_core.engagement import BY_CAMPAIGN_COLUMNS, ENGAGEMENT_COLUMNS
from ops_core.sql import quote_literal

__all__ = [
    "MAX_VARIABLE_NAME",
    "VIEW_COLUMNS",
    "custom_variable_name",
    "engagement_clash",
    "folded",
    "ops_table_name",
    "view_column_sql",
    "written_back_column",
]

MAX_VARIABLE_NAME = 64  # our choice: short enough to read in Instantly's variable picker


def folded(text: str) -> str:
    """`text` in ASCII by Unicode's compatibility decomposition, dropping what does not decompose to ASCII:
    accents, ligatures, full-width forms fold ('Prénom' -> 'Prenom', 'ﬁ' -> 'fi'); 'ß', 'ø', Cyrillic, CJK,
    emoji and other symbols are dropped ('Größe' -> 'Groe', 'Город' -> '')."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def _transliterated(text: str) -> str:
    """`text` in ASCII: `folded`, except that a letter or digit it would drop is transliterated (anyascii) in
    the case it has: 'Größe' -> 'Grosse', 'Ærø' -> 'AEro', 'Город' -> 'Gorod', 'ЧАСТОТА' -> 'CHASTOTA',
    '名前' -> 'mingqian'. Whatever `folded` keeps stays as it was, as do the symbols it drops ('📧 Email' ->
    ' Email'), so only names that lost letters change."""
    out = []
    for char in unicodedata.normalize("NFC", text):  # composed: 'й', not 'и' and a breve (macOS file names)
        ascii_char = folded(char)
        if not ascii_char and char.isalnum():
            # Cased like its letter: 'Ж' -> 'ZH' (not 'Zh', whose 'hA' in 'ЖАР' would read as camelCase).
            ascii_char = anyascii(char)
            ascii_char = ascii_char.upper() if char.isupper() else ascii_char.lower()
        out.append(ascii_char)
    return "".join(out)


def custom_variable_name(column: str) -> str:
    """A snake-case ASCII identifier for a column: 'Signup Date (UTC)' -> 'signup_date_utc', 'Größe' ->
    'grosse', 'Город' -> 'gorod' (`_transliterated`)."""
    text = _transliterated(column)
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", text)  # camelCase -> camel_Case
    text = re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_").lower()
    if not text:
        text = "column"
    if text[0].isdigit():
        text = f"c_{text}"
    return text[:MAX_VARIABLE_NAME].rstrip("_")


def ops_table_name(table: str) -> str:
    """The warehouse table (in schema `ops`) that a `--table` names: its last dotted part, snake-cased (pure).

    `ops.Prospects`, `prospects` and a Postgres `crm.prospects` all name `ops.prospects`, so a connection made
    with one spelling is the connection of the table given in another."""
    return custom_variable_name(table.strip().rsplit(".", 1)[-1])


# The columns the engagement views add to a source table's own: ENGAGEMENT_COLUMNS on ops.<table>_engagement,
# those and BY_CAMPAIGN_COLUMNS on ops.<table>_engagement_by_campaign (ops_core/engagement.py).
VIEW_COLUMNS: tuple[str, ...] = (*ENGAGEMENT_COLUMNS, *BY_CAMPAIGN_COLUMNS)


def written_back_column(column: str) -> bool:
    """Whether a source column is one `sync --write-back` adds to a Postgres table, spelled as it writes it
    (`instantly_reply_count`, not `Instantly_Reply_Count`): ours, from an earlier sync, extracted again. The
    views show the current value in its place, and the push leaves it out of the leads it sends."""
    return column in ENGAGEMENT_COLUMNS


def engagement_clash(column: str) -> str | None:
    """The view column (`VIEW_COLUMNS`) that a source column clashes with, or None (pure).

    DuckDB tells column names apart without regard to ASCII case: next to a source column
    `Instantly_Reply_Count`, a view's own `instantly_reply_count` became `instantly_reply_count_1`, and a query
    of `instantly_reply_count` read the source's. So any name equal to a view column but for ASCII case clashes,
    and so does an exact `instantly_campaign_name`, `instantly_campaign_id` or `instantly_link` (no write-back
    writes those: such a column is the source's own). A written-back column (`written_back_column`) does not.
    """
    # Only ASCII letters fold: to DuckDB, 'instantly_lin\u212a' (a Kelvin sign) is not 'instantly_link'.
    if written_back_column(column) or not column.isascii():
        return None
    return next((ours for ours in VIEW_COLUMNS if ours == column.lower()), None)


def view_column_sql(name: str) -> str:
    """A DuckDB condition, true when the column name `name` (a SQL expression) is a view column but for ASCII
    case: the column the views put their own in place of (a written-back one, or one `engagement_clash` names in a
    table extracted before the extract refused those). The SQL twin of `engagement_clash` (pure)."""
    names = ", ".join(quote_literal(c) for c in VIEW_COLUMNS)
    return f"(lower({name}) IN ({names}) AND strlen({name}) = length({name}))"  # ASCII: one byte a character
