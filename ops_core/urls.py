"""URLs without their secrets, for messages, logs and anything stored (standard library only)."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

__all__ = ["PASSWORD_PATTERN", "PASSWORD_REFUSAL", "redact_url"]

# A JSON-schema `pattern` (searched, not anchored) that finds a password in a URL or connection string:
# `scheme://user:secret@` at the start, or any `password=` (libpq keyword or query parameter). A flow
# parameter that may name one (`source`, `warehouse`) is refused when it matches (flows/_parameters.py), so
# the Prefect server refuses such a run before it is created and the password is never stored with it. Plain
# syntax only: ECMAScript (the UI) and Python (the server) read it alike.
PASSWORD_PATTERN = r"^[A-Za-z][A-Za-z0-9+.-]*://[^/?#@\s]*:[^/?#@\s]*@|[Pp][Aa][Ss][Ss][Ww][Oo][Rr][Dd]\s*="
# What the refusal says it expected instead (the server's message quotes this, never the value).
PASSWORD_REFUSAL = (
    "a value without a password (keep the password in a block, e.g. a Postgres Source, or in the worker's "
    "environment)"
)


def redact_url(url: str) -> str:
    """The URL without its secrets (pure): the password in `user:secret@` and any query parameter that
    holds one (libpq's `?password=`, `sslpassword`, `passfile` ...): postgresql://u:secret@h/db -> postgresql://u@h/db.
    """
    if "://" not in url:
        return url
    parts = urlsplit(url)
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode([(k, v) for k, v in pairs if "pass" not in k.lower()])
    if parts.password is None and query == parts.query:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username}@{host}" if parts.username else host
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
