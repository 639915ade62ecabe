"""The client's own redaction of its base URL (instantly_client/_redact.py): the host stays, the password goes."""

from __future__ import annotations

import pytest

from instantly_client._redact import url_without_password


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("http://user:SECRET@127.0.0.1:8699/api/v2", "http://user:***@127.0.0.1:8699/api/v2"),
        ("https://:SECRET@api.example/api/v2?x=1", "https://:***@api.example/api/v2?x=1"),
        ("http://user:SEC@RET@h/api/v2", "http://user:***@h/api/v2"),  # the last `@` ends the userinfo
        ("http://user:SECRET@h:notaport", "http://user:***@h:notaport"),  # never raises
        ("http://user@h/api/v2", "http://user@h/api/v2"),  # no password: unchanged
        ("https://api.instantly.ai/api/v2", "https://api.instantly.ai/api/v2"),
        ("http://h/api/v2?next=a:b@c", "http://h/api/v2?next=a:b@c"),  # an `@` after the host is not userinfo
        ("not a url", "not a url"),
    ],
)
def test_url_without_password_keeps_the_user_and_host(url: str, shown: str) -> None:
    assert url_without_password(url) == shown
