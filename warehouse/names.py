"""Names made from what people type: a column header or a `--table` as a snake-case ASCII identifier.

One home for the rule, used by the mapping (custom variable names), the extract (the warehouse table a
source lands in) and the connections (which warehouse table a `--table` names, however spelled).
"""

from __future__ import annotations

import re
import unicodedata

from anyascii import anyascii

__all__ = ["MAX_VARIABLE_NAME", "custom_variable_name", "folded", "ops_table_name"]

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
