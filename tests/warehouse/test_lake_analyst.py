"""docs/warehouse.md's analyst snippet, run as written against a real DuckLake that a sync filled."""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from blocks import resolve_warehouse
from flows.sync_engagement import sync_engagement
from instantly_client import InstantlyClient
from tasks.extract import SourceSpec, describe_source, extract_source
from tasks.mapping import resolve_mapping
from tests.instantly_sandbox.helpers import schedule, sequence

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "warehouse.md"
LEADS = ROOT / "examples" / "leads.csv"

pytestmark = pytest.mark.usefixtures("prefect_harness")


def analyst_snippet() -> str:
    """The Python block after the `analyst-python` marker in docs/warehouse.md."""
    found = re.search(r"<!-- analyst-python:.*?-->\n```python\n(.*?)```", DOC.read_text(), re.DOTALL)
    assert found, "docs/warehouse.md lost its analyst-python block"
    return found.group(1)


@pytest.mark.slow  # about 8 s: a sync flow into a new DuckLake, then the snippet in its own process
def test_the_documented_python_snippet_reads_the_engagement_views_of_a_lake(
    sandbox, new_lake, monkeypatch, tmp_path
) -> None:
    monkeypatch.setenv("INSTANTLY_API_KEY", sandbox.api_key)
    monkeypatch.setenv("INSTANTLY_BASE_URL", sandbox.base_url)
    emails = [row["Email"] for row in csv.DictReader(LEADS.open())]
    with InstantlyClient(api_key=sandbox.api_key, base_url=sandbox.base_url) as client:
        campaign = client.campaigns.create(
            {"name": "Lake", "campaign_schedule": schedule(), "sequences": sequence(2, 2)}
        )
        client.leads.add(campaign_id=campaign.id, leads=[{"email": e} for e in emails])
        client.campaigns.activate(campaign.id)
    httpx.post(f"{sandbox.url}/_sandbox/advance", json={"days": 10}, timeout=120).raise_for_status()
    warehouse = resolve_warehouse(path=new_lake)
    spec = SourceSpec(str(LEADS))
    mapping = resolve_mapping(describe_source.fn(spec))
    extract_source.fn(spec, warehouse, email_column=mapping.email_column, key_column=None, run_id="x")
    sync_engagement(warehouse=new_lake)  # leads added outside a push: linked by email in the views
    with warehouse.connect(read_only=True) as con:
        contacted = con.execute(
            "SELECT count(*) FROM ops.leads_engagement WHERE instantly_email_status <> 'not_contacted'"
        ).fetchone()
    assert contacted and contacted[0] > 0

    script = tmp_path / "analyst.py"
    script.write_text(analyst_snippet())
    env = {k: v for k, v in os.environ.items() if not k.startswith(("INSTANTLY_", "PREFECT_"))}
    done = subprocess.run(
        [sys.executable, str(script)],
        env={**env, "OPS_WAREHOUSE": new_lake},
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,  # not the repo: the snippet needs only duckdb and the two wheels
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert emails[0] in out  # the per-row engagement view, read through the lake
    assert "reply_rate" in out and "Lake" in out  # ops.engagement_by() and ops.campaign_rates work there
