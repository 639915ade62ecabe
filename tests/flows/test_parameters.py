"""flows._parameters: a URL parameter with a password is refused by the deployment's schema, before a run exists."""

from __future__ import annotations

import pytest
from prefect.utilities.callables import parameter_schema
from prefect.utilities.schema_tools.validation import ValidationError, validate

from flows.build_report import build_report
from flows.ingest_webhook_events import ingest_webhook_events
from flows.push_leads import push_leads
from flows.sync_engagement import sync_engagement

URL_PARAMETERS = [
    (push_leads, "source"),
    (push_leads, "warehouse"),
    (sync_engagement, "warehouse"),
    (ingest_webhook_events, "warehouse"),
    (build_report, "warehouse"),
]
WITH_PASSWORD = [
    "postgresql://ops:hunter2@db:5432/crm",
    "postgres://ops:hunter2@db/crm?sslmode=require",
    "postgresql://ops@db/crm?password=hunter2",
    "ducklake:postgres:dbname=ops_lake host=db1 user=ops password=hunter2",
    "ducklake:postgres:dbname=ops_lake host=db1 user=ops PASSWORD = 'hunter 2'",
]
WITHOUT = [
    "",
    "examples/leads.csv",
    "/data/Q3 leads (final).xlsx",
    "duckdb:///srv/ops/crm.duckdb",
    "postgresql://ops@db:5432/crm",
    "postgresql://db/crm?sslmode=require",
    "ducklake:postgres:dbname=ops_lake host=db1 user=ops",
    "warehouse.duckdb",
]


def _schema(flow: object) -> dict:
    return parameter_schema(flow.fn).model_dump_for_openapi()  # type: ignore[attr-defined]


@pytest.mark.parametrize(("flow", "name"), URL_PARAMETERS, ids=lambda x: getattr(x, "name", x))
def test_the_server_refuses_a_password_in_a_url_parameter_before_the_run_exists(
    flow: object, name: str
) -> None:
    # Seen: a `source` of postgresql://ops:hunter2@... launched from the UI was refused by the flow, but the
    # run's Parameters tab kept the password. Prefect's server validates a deployment's run against this
    # schema (enforce_parameter_schema) and creates no run when it fails.
    schema = _schema(flow)
    for value in WITH_PASSWORD:
        assert validate({name: value}, schema, raise_on_error=False, ignore_required=True), value
    for value in WITHOUT:
        assert not validate({name: value}, schema, raise_on_error=False, ignore_required=True), value


@pytest.mark.parametrize(("flow", "name"), URL_PARAMETERS[:1], ids=lambda x: getattr(x, "name", x))
def test_the_refusal_does_not_show_the_password(flow: object, name: str) -> None:
    # Seen: the UI's error for a `source` with a password quoted it ("'postgresql://postgres:hunter2@...'
    # does not match '^(?!...'"). The server's message is what the form shows.
    schema = _schema(flow)
    for value in WITH_PASSWORD:
        with pytest.raises(ValidationError) as refused:
            validate({name: value}, schema, raise_on_error=True, ignore_required=True)
        assert "hunter" not in str(refused.value), value
        assert f"Validation failed for field {name!r}" in str(refused.value)
        assert "without a password" in str(refused.value)
