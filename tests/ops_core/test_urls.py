"""URLs without their secrets (ops_core/urls.py): what messages, logs and stored connections may show."""

from __future__ import annotations

import pytest

from ops_core.urls import redact_passwords, redact_url


def test_redact_url_drops_only_the_password() -> None:
    assert redact_url("postgresql://bob:s3cret@db.local:5433/crm?sslmode=require") == (
        "postgresql://bob@db.local:5433/crm?sslmode=require"
    )
    assert redact_url("postgresql://bob@db/crm") == "postgresql://bob@db/crm"
    assert redact_url("leads.csv") == "leads.csv"


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://bob@db/crm?password=s3cret&sslmode=require",
        "postgresql://db/crm?sslmode=require&sslpassword=s3cret",
        "postgresql://bob:s3cret@db/crm?sslmode=require&passfile=/s3cret",
    ],
)
def test_redact_url_drops_passwords_in_the_query_string_too(url: str) -> None:
    redacted = redact_url(url)
    assert "s3cret" not in redacted
    assert "sslmode=require" in redacted


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
    ],
)
def test_redact_passwords_finds_them_anywhere_in_a_text(text: str, redacted: str) -> None:
    assert redact_passwords(text) == redacted
    assert "s3cret" not in redact_url(text)
