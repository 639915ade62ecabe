"""Secrets never appear in parameters, logs, artifacts or the warehouse: the API key and a source password."""

from __future__ import annotations

import uuid
from pathlib import Path

import duckdb
import pytest
from pydantic import SecretStr

from blocks import PostgresSource
from flows.push_leads import push_leads
from flows.sync_engagement import sync_engagement
from tests.postgres_scratch import PostgresScratch
from tests.tasks.push_helpers import make_campaign

pytestmark = pytest.mark.slow
PASSWORD = "hunter2-not-for-logs"  # trust auth on the test server accepts any password


def _everything_prefect_kept(flow_run_ids: list[str]) -> str:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        ArtifactFilter,
        ArtifactFilterFlowRunId,
        LogFilter,
        LogFilterFlowRunId,
    )

    with get_client(sync_client=True) as client:
        texts = []
        for run_id in flow_run_ids:
            run = client.read_flow_run(run_id)
            texts.append(repr(run.parameters))
        ids = [uuid.UUID(r) for r in flow_run_ids]
        texts += [
            log.message
            for log in client.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=ids)))
        ]
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=ids))
        )
        texts += [repr(a.data) + repr(a.description) for a in artifacts]
    assert artifacts, "the flows publish artifacts"
    return "\n".join(texts)


def _everything_in_the_warehouse(path: Path) -> str:
    con = duckdb.connect(str(path), read_only=True)
    try:
        texts = []
        tables = con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE'"
        ).fetchall()
        for schema, table in tables:
            texts += [repr(row) for row in con.execute(f'SELECT * FROM "{schema}"."{table}"').fetchall()]
        return "\n".join(texts)
    finally:
        con.close()


def test_the_api_key_and_a_source_password_stay_secret(
    prefect_harness: None,
    postgres_url: str,
    postgres_scratch: PostgresScratch,
    warehouse_path: Path,
    monkeypatch,
    caplog,
) -> None:
    from instantly_sandbox import SandboxServer

    key = "sandbox-key-that-must-stay-secret"

    with SandboxServer(port=0, seed=3, api_keys=[key]) as server:
        monkeypatch.setenv("INSTANTLY_API_KEY", key)
        monkeypatch.setenv("INSTANTLY_BASE_URL", server.base_url)
        monkeypatch.setenv("OPS_WAREHOUSE", str(warehouse_path))
        server.api_key = key
        campaign = make_campaign(server, "Secrets")
        table = postgres_scratch.table(
            "secret_src", "email text, first_name text", [("a@example.com", "Ann"), ("b@example.com", "Bob")]
        )
        url = postgres_url.replace("postgresql://postgres@", f"postgresql://postgres:{PASSWORD}@")
        source = PostgresSource(url=SecretStr(url))
        pushed = push_leads(postgres=source, table=table, campaigns=[campaign])
        synced = sync_engagement(write_back_postgres=source)

    kept = _everything_prefect_kept([pushed["run_id"], synced.run_id]) + _everything_in_the_warehouse(
        warehouse_path
    )
    kept += caplog.text
    assert "a@example.com" in kept  # the check reads real content
    assert key not in kept
    assert PASSWORD not in kept
