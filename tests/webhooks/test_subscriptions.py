"""Subscriptions' pure parts (webhooks/subscriptions.py)."""

from __future__ import annotations

import pytest

from webhooks.subscriptions import plain_http_warning


@pytest.mark.parametrize(
    "url",
    [
        "http://hooks.example.com/instantly/webhook",
        "HTTP://hooks.example.com/instantly/webhook",
        "http://203.0.113.7:8800/instantly/webhook",
        "http://[2001:db8::1]:8800/instantly/webhook",
        "http://localhost.example.com/instantly/webhook",  # a public name that starts like localhost
    ],
)
def test_a_plain_http_url_off_loopback_is_warned_about(url: str) -> None:
    warning = plain_http_warning(url)
    assert warning is not None and warning.startswith(f"warning: {url} is plain http") and "\n" not in warning


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.example.com/instantly/webhook",
        "http://127.0.0.1:8800/instantly/webhook",
        "http://127.8.9.10/instantly/webhook",
        "http://[::1]:8800/instantly/webhook",
        "http://localhost:8800/instantly/webhook",
        "http://LOCALHOST./instantly/webhook",
        "http://hooks.localhost/instantly/webhook",
    ],
)
def test_https_and_loopback_urls_need_no_warning(url: str) -> None:
    assert plain_http_warning(url) is None
