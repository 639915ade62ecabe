"""URLs without their secrets, for messages, logs and anything stored (standard library only)."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

__all__ = ["PASSWORD_PATTERN", "PASSWORD_REFUSAL", "redact_passwords", "redact_url"]

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


# A libpq keyword/value password (`password=x`, `sslpassword = 'a b'`): the keyword starts the text or follows
# white space, a quote, a bracket or a separator such as the `:` of `ducklake:postgres:password=...` (not a
# `/`: `exports/password=1.csv` is a path); the value is
# a quoted string (libpq's backslash escapes; unterminated: to the end) or, as libpq reads it, the next word.
_KEYWORD_PASSWORD = re.compile(
    r"""(?<![^\s'"(\[{,;:?&])(\w*password\s*=\s*)('(?:[^'\\]|\\.)*(?:'|$)|\S+)""", re.IGNORECASE
)
# The password of a URL anywhere in a text: `scheme://user:secret@`, up to the last `@` of the authority.
_URL_PASSWORD = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://[^:/?#@\s]*:)([^/?#\s]*)(@)")


def redact_passwords(text: str) -> str:
    """`text` (a message, an error's first line, a libpq connection string) with each password in it
    replaced by *** (pure): a libpq `password=...` keyword, quoted or not, and a URL's `:secret@`.

    Example: `host=db user=ops password='a b' dbname=crm` -> `host=db user=ops password=*** dbname=crm`.
    """
    return _URL_PASSWORD.sub(r"\1***\3", _KEYWORD_PASSWORD.sub(r"\1***", text))


def redact_url(url: str) -> str:
    """The URL without its secrets (pure): the password in `user:secret@` and any query parameter that
    holds one (libpq's `?password=`, `sslpassword`, `passfile` ...): postgresql://u:secret@h/db -> postgresql://u@h/db.

    What is not a URL is redacted as a text (`redact_passwords`): a libpq connection string
    `host=h password=secret` -> `host=h password=***`; so is a URL that does not parse (a bad port).
    """
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
        query = urlencode([(k, v) for k, v in pairs if "pass" not in k.lower()])
    if parts.password is None and query == parts.query:
        return redact_passwords(
            url
        )  # e.g. `ducklake:postgres:postgresql://u:secret@h/db`, or a stray keyword
    host = parts.hostname or ""
    netloc = f"{parts.username}@{host}" if parts.username else host
    if port:
        netloc += f":{port}"
    return redact_passwords(urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment)))
