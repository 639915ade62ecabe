"""Saved block names read from the temporary Prefect API's own SQLite file, without starting that API.

Without PREFECT_API_URL, Prefect starts a temporary API server (7-15 s on a small machine) for the first
request, so `--credentials MISSPELT` took that long only to hear that no such block exists. That server keeps
its blocks in a local SQLite file, which is read here in milliseconds first. Only a certain answer is
used: with an API URL set, another database, or a file that cannot be read as expected, the answer is
"unknown" (None) and the API is asked as before. A missing file is certain: the temporary API would create
it empty.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

__all__ = ["saved_names_without_api"]

_SQLITE_PREFIXES = ("sqlite+aiosqlite:///", "sqlite:///")
# Prefect's own tables (prefect/server/database/orm_models.py: BlockDocument, BlockType); anonymous
# documents are the unnamed ones flows create, never loaded by name.
_NAMES = (
    "SELECT d.name FROM block_document AS d JOIN block_type AS t ON t.id = d.block_type_id "
    "WHERE t.slug = ? AND NOT d.is_anonymous"
)


def saved_names_without_api(slug: str) -> list[str] | None:
    """Names of the saved blocks of type `slug` in the temporary API's database; None when that cannot
    be known without the API (PREFECT_API_URL is set, or the database is not a readable SQLite file)."""
    from prefect.settings import get_current_settings

    settings = get_current_settings()
    if settings.api.url or not settings.server.ephemeral.enabled:
        return None
    url = settings.server.database.connection_url
    text = url.get_secret_value() if url is not None else ""
    prefix = next((p for p in _SQLITE_PREFIXES if text.startswith(p)), None)
    if prefix is None or "?" in text:
        return None
    path = Path(text[len(prefix) :])
    if str(path) in ("", ":memory:"):
        return None
    if not path.exists():
        return []
    try:
        con = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=1.0)
        try:
            return [name for (name,) in con.execute(_NAMES, (slug,)).fetchall() if name]
        finally:
            con.close()
    except sqlite3.Error:  # locked, another schema, not a database: ask the API
        return None
