"""URLs without their secrets (ops_core/urls.py): what messages, logs and stored connections may show."""

from __future__ import annotations

import pytest

from ops_core.urls import redact_url


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
