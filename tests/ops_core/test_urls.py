"""URLs without their secrets (ops_core/urls.py): what messages, logs and stored connections may show."""

from __future__ import annotations

import pytest

from instantly_client._redact import url_without_password
from ops_core.urls import has_password, redact_passwords, redact_url, url_key


def test_redact_url_replaces_only_the_password_with_stars() -> None:
    assert redact_url("postgresql://bob:s3cret@db.local:5433/crm?sslmode=require") == (
        "postgresql://bob:***@db.local:5433/crm?sslmode=require"
    )
    assert redact_url("postgresql://bob@db/crm") == "postgresql://bob@db/crm"
    assert redact_url("postgresql://bob:s3cret@[::1]:5432/crm") == "postgresql://bob:***@[::1]:5432/crm"
    assert redact_url("leads.csv") == "leads.csv"


@pytest.mark.parametrize(
    "url",
    [
        "http://user:SECRET@127.0.0.1:8699/api/v2",
        "https://:SECRET@api.example/api/v2?x=1",
        "http://user:SEC@RET@h/api/v2",
        "http://user:SECRET@h:notaport",
        "http://user@h/api/v2",
        "https://api.instantly.ai/api/v2",
        "http://h/api/v2?next=a:b@c",
        "postgresql://bob:s3cret@db.local:5433/crm",
        "http://ops:Zm9vYmFy/Kw9x@127.0.0.1:8890/api/v2",  # a base64 password, its `/` not encoded
        "http://ops:pa#ss@127.0.0.1:8890/api/v2",
        "http://127.0.0.1:8890/api/v2/leads@x",  # a port, then a path with an `@`: no password
    ],
)
def test_a_base_url_shows_as_the_client_shows_it(url: str) -> None:
    # One rule for a URL's password: the client (which cannot import ops_core) keeps its own copy of it.
    assert redact_url(url) == url_without_password(url)


def test_url_key_leaves_the_password_out_as_names_were_recorded_before_messages_showed_stars() -> None:
    # ops.source_tables and the push ledger hold these names: they must not change with what messages show.
    assert url_key("postgresql://bob:s3cret@db:5433/crm?sslmode=require&password=s3cret") == (
        "postgresql://bob@db:5433/crm?sslmode=require"
    )
    assert url_key("http://user:s3cret@h/api/v2") == url_key("http://user@h/api/v2") == "http://user@h/api/v2"
    assert url_key("host=h password=s3cret") == "host=h password=***"


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("https://user:s3cret@gateway.example/api/v2", True),
        ("https://:s3cret@gateway.example/api/v2", True),
        ("https://gateway.example/api/v2?password=s3cret", True),
        ("https://user@gateway.example/api/v2", False),
        ("https://api.instantly.ai/api/v2", False),
        ("http://127.0.0.1:8765/api/v2", False),
        ("http://h/api/v2?next=a:b@c", False),
        ("http://ops:Zm9vYmFy/Kw9x@127.0.0.1:8890/api/v2", True),
        ("http://ops:pa#ss@127.0.0.1:8890/api/v2", True),
        ("http://ops:1234@127.0.0.1:8890/api/v2", True),
        ("http://127.0.0.1:8890/api/v2/leads@x", False),
        ("http://127.0.0.1:8890/api/v2#password=hunter2", True),
        ("http://127.0.0.1:8890/api/v2?passwd=hunter2", True),
    ],
)
def test_has_password_finds_a_userinfo_password_or_a_password_keyword(text: str, found: bool) -> None:
    assert has_password(text) is found


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://bob@db/crm?password=s3cret&sslmode=require",
        "postgresql://db/crm?sslmode=require&sslpassword=s3cret",
        "postgresql://bob:s3cret@db/crm?sslmode=require&passfile=/s3cret",
    ],
)
def test_redact_url_hides_passwords_in_the_query_string_too(url: str) -> None:
    redacted = redact_url(url)
    assert "s3cret" not in redacted and "pass" in redacted and "=***" in redacted
    assert "sslmode=require" in redacted
    assert "s3cret" not in url_key(url) and "pass" not in url_key(url) and "sslmode=require" in url_key(url)


@pytest.mark.parametrize(
    ("conninfo", "redacted"),
    [
        (
            "host=127.0.0.1 user=postgres password=s3cret dbname=test",
            "host=127.0.0.1 user=postgres password=*** dbname=test",
        ),
        ("host=h password='s3cret with \\' a quote' dbname=x", "host=h password=*** dbname=x"),
        ("password = s3cret host=h", "password = *** host=h"),
        ("PassWord=s3cret", "PassWord=***"),
        ("host=h sslpassword=s3cret", "host=h sslpassword=***"),
        ("host=h password='s3cret never closed", "host=h password=***"),
        ("dbname=ops host=h", "dbname=ops host=h"),
    ],
)
def test_redact_url_replaces_a_libpq_keyword_password_with_stars(conninfo: str, redacted: str) -> None:
    assert redact_url(conninfo) == redacted
    assert "s3cret" not in redact_url(conninfo)


def test_a_file_path_that_merely_contains_password_equals_is_left_alone() -> None:
    # SourceSpec.display is recorded in ops.source_tables: a path must read back as it was written.
    assert redact_url("exports/password=1.csv") == "exports/password=1.csv"


@pytest.mark.parametrize(
    "url",
    ["postgresql://bob:s3cret@db:abc/crm", "postgresql://bob:s3cret@[::1/crm"],
)
def test_a_url_that_does_not_parse_loses_its_password_instead_of_raising(url: str) -> None:
    redacted = redact_url(url)
    assert "s3cret" not in redacted and "bob:***@" in redacted


@pytest.mark.parametrize(
    ("text", "redacted"),
    [
        ("ducklake:postgres:dbname=ops password=s3cret", "ducklake:postgres:dbname=ops password=***"),
        ("ducklake:postgres:postgresql://u:s3cret@h/ops", "ducklake:postgres:postgresql://u:***@h/ops"),
        (
            "could not open \"host=h password='s3cret and more'\": refused",
            'could not open "host=h password=***": refused',
        ),
        ("GET http://u:s3cret@h/api/v2/x failed", "GET http://u:***@h/api/v2/x failed"),
        ("at http://ops:s3cret/Kw9x@h:8890/api/v2: refused", "at http://ops:***@h:8890/api/v2: refused"),
        (
            "Cannot save http://h/api/v2#password=s3cret (--base-url)",
            "Cannot save http://h/api/v2#password=*** (--base-url)",
        ),
        (
            "GET http://h:8890/api/v2/leads?email=a@b.co failed",
            "GET http://h:8890/api/v2/leads?email=a@b.co failed",
        ),
    ],
)
def test_redact_passwords_finds_them_anywhere_in_a_text(text: str, redacted: str) -> None:
    assert redact_passwords(text) == redacted
    assert "s3cret" not in redact_url(text)
