"""What the client shows of its base URL: never the password its userinfo may carry (`user:secret@`).

The client cannot import ops_core (docs/ARCHITECTURE.md), whose `redact_url` does this for the layers above;
this is the client's own, for its messages, its repr and the names it keys its limiters by.
"""

from __future__ import annotations

__all__ = ["url_without_password"]


def url_without_password(url: str) -> str:
    """``url`` with the password of its ``user:secret@`` replaced by ``***``, so it still names the host
    (pure, never raises): ``http://u:secret@h:8080/api/v2`` -> ``http://u:***@h:8080/api/v2``."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    ends = [i for i in (rest.find(c) for c in "/?#") if i >= 0]
    end = min(ends, default=len(rest))
    userinfo, at, host = rest[:end].rpartition("@")  # the last `@` ends the userinfo, as httpx reads it
    if not at:
        # A password with an unencoded `/`, `?` or `#` ends the authority early: httpx reads `user:secret` as
        # a host and a port that is not a number. Its `@` comes later: hide up to it.
        user, colon, port = rest[:end].partition(":")
        at_index = rest.find("@", end)
        if (
            colon
            and port
            and not port.isdigit()
            and at_index >= 0
            and not any(c.isspace() for c in rest[:at_index])
        ):
            return f"{scheme}://{user}:***@{rest[at_index + 1 :]}"
        return url
    if ":" not in userinfo:
        return url
    user = userinfo.partition(":")[0]
    return f"{scheme}://{user}:***@{host}{rest[end:]}"
