"""URLs without their secrets, for messages, logs and anything stored (standard library only)."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

__all__ = ["redact_url"]


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
