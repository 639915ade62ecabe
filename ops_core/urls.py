"""URLs without their secrets, for messages, logs and anything stored (standard library only)."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

__all__ = ["NO_PASSWORD_PATTERN", "redact_url"]

# The JSON-schema `pattern` of a flow parameter that may name a URL or connection string (`source`,
# `warehouse`): it refuses `scheme://user:secret@` and any `password=` (libpq keyword or query parameter),
# so the Prefect server (and the UI's form) refuses such a run before it is created, and the password is never
# stored with the run's parameters. Lookaheads only: ECMAScript (the UI) and Python (the server) read both.
NO_PASSWORD_PATTERN = (
    r"^(?![A-Za-z][A-Za-z0-9+.-]*://[^/?#@\s]*:[^/?#@\s]*@)(?![\s\S]*[Pp][Aa][Ss][Ss][Ww][Oo][Rr][Dd]\s*=)"
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
