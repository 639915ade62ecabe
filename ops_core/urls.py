"""URLs without their secrets, for messages, logs and anything stored (standard library only)."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

__all__ = [
    "PASSWORD_PATTERN",
    "PASSWORD_REFUSAL",
    "has_password",
    "redact_passwords",
    "redact_url",
    "url_key",
]

MASK = "***"  # what every message shows in place of a password (the client's `_redact.py` shows the same)

# A JSON-schema `pattern` (searched, not anchored) that finds a password in a URL or connection string:
# `scheme://user:secret@` at the start (also a secret with an unencoded `/`, `?` or `#`, which ends the
# authority for a URL parser: it then reads `user:secret` as a host and a port that is not a number; a number
# followed by a path is a port), or any `password=` (libpq keyword or query parameter). A flow
# parameter that may name one (`source`, `warehouse`) is refused when it matches (flows/_parameters.py), so
# the Prefect server refuses such a run before it is created and the password is never stored with it. Plain
# syntax only: ECMAScript (the UI) and Python (the server) read it alike.
PASSWORD_PATTERN = (
    r"^[A-Za-z][A-Za-z0-9+.-]*://[^/?#@\s]*:(?:[^/?#@\s]*|[^/?#@\s]*[^\d/?#@\s][^@\s]*)@"
    r"|[Pp][Aa][Ss][Ss][Ww][Oo][Rr][Dd]\s*="
)
# What the refusal says it expected instead (the server's message quotes this, never the value).
PASSWORD_REFUSAL = (
    "a value without a password (keep the password in a block, e.g. a Postgres Source, or in the worker's "
    "environment)"
)


# A libpq keyword/value password (`password=x`, `sslpassword = 'a b'`): the keyword starts the text or follows
# white space, a quote, a bracket or a separator such as the `:` of `ducklake:postgres:password=...` (not a
# `/`: `exports/password=1.csv` is a path); the value is
# a quoted string (libpq's backslash escapes; unterminated: to the end) or, as libpq reads it, the next word.
_KEYWORD_PASSWORD = re.compile(
    r"""(?<![^\s'"(\[{,;:?&#])(\w*password\s*=\s*)('(?:[^'\\]|\\.)*(?:'|$)|\S+)""", re.IGNORECASE
)
# The password of a URL anywhere in a text: `scheme://user:secret@`, up to the last `@` of the authority; or,
# when the secret holds an unencoded `/`, `?` or `#` (what follows the `:` up to it is not a port number), up
# to the next `@`.
_URL_PASSWORD = re.compile(
    r"([A-Za-z][A-Za-z0-9+.-]*://[^:/?#@\s]*:)([^/?#\s]*|(?=[^/?#@\s]*[^\d/?#@\s])[^@\s]*)(@)"
)


def redact_passwords(text: str) -> str:
    """`text` (a message, an error's first line, a libpq connection string) with each password in it
    replaced by *** (pure): a libpq `password=...` keyword, quoted or not, and a URL's `:secret@`.

    Example: `host=db user=ops password='a b' dbname=crm` -> `host=db user=ops password=*** dbname=crm`.
    """
    return _URL_PASSWORD.sub(r"\1***\3", _KEYWORD_PASSWORD.sub(r"\1***", text))


def has_password(text: str) -> bool:
    """Whether `text` holds a password (pure): what `PASSWORD_PATTERN` finds (a URL's `user:secret@`, any
    `password=`), or anything else `redact_url` would hide (`?passwd=`, `?sslpassword=` ...). Whatever a
    message masks is refused where a password must not be kept."""
    return re.search(PASSWORD_PATTERN, text) is not None or redact_url(text) != text


def redact_url(url: str) -> str:
    """The URL as a message shows it (pure): each password replaced by ***, the rest as it was, as the
    client shows its base URL: the `user:secret@` of the authority and any query parameter that holds one
    (libpq's `?password=`, `sslpassword`, `passfile` ...): postgresql://u:secret@h/db -> postgresql://u:***@h/db.

    What is not a URL is redacted as a text (`redact_passwords`): a libpq connection string
    `host=h password=secret` -> `host=h password=***`; so is a URL that does not parse (a bad port).
    """
    return _without_passwords(url, MASK)


def url_key(url: str) -> str:
    """The URL as a name that is recorded (pure): its passwords left out, not masked, so the name stays the
    same with or without a password and whatever messages show (`ops.source_tables.source`, a credentials
    block's `workspace_key`): postgresql://u:secret@h/db?password=x&sslmode=require -> postgresql://u@h/db?sslmode=require.
    What does not parse as a URL is redacted as a text (`redact_passwords`), with ***."""
    return _without_passwords(url, None)


def _without_passwords(url: str, mask: str | None) -> str:
    """`url` with each password replaced by `mask`, or left out (with its `:` or query parameter) when None."""
    if "://" not in url:
        return redact_passwords(url)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:  # `host:abc`, an unclosed `[`: nothing to parse, so redact what looks like a secret
        return redact_passwords(url)
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if any("pass" in k.lower() for k, _ in pairs):
            kept = [(k, v) for k, v in pairs if mask is not None or "pass" not in k.lower()]
            query = urlencode(
                [(k, mask if mask is not None and "pass" in k.lower() else v) for k, v in kept], safe="*"
            )
    if parts.password is None and query == parts.query:
        return redact_passwords(
            url
        )  # e.g. `ducklake:postgres:postgresql://u:secret@h/db`, or a stray keyword
    host = parts.hostname or ""
    if ":" in host and mask is not None:  # IPv6: urlsplit took its brackets off (a key keeps its old form)
        host = f"[{host}]"
    user = parts.username or ""
    if parts.password is not None and mask is not None:
        netloc = f"{user}:{mask}@{host}"
    else:
        netloc = f"{user}@{host}" if user else host
    if port:
        netloc += f":{port}"
    if mask is None:
        return redact_passwords(urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment)))
    # The query is masked already: `redact_passwords` would take `password=***&sslmode=...` for one value.
    head = redact_passwords(urlunsplit((parts.scheme, netloc, parts.path, "", "")))
    return (
        head
        + (f"?{query}" if query else "")
        + (f"#{redact_passwords(parts.fragment)}" if parts.fragment else "")
    )
