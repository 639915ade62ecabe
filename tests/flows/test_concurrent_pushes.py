"""Two pushes of the same table to the same campaign at once (a schedule firing while a CLI run is still
going), each `ops-instantly push` in its own process, against the sandbox over real HTTP, on a DuckDB file
and on a DuckLake: the second waits for the first, then reports the first's rows as already pushed.

Before the push guard the second run's reconcile read the first's live intents as crash leftovers: it
reported rows the first created as its own `created` (117,000 `created` for 100,000 leads) and could send
a row twice.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from ops_instantly._paths import REPO_ROOT
from tests.tasks.push_helpers import campaign_leads, make_campaign, query, request_count, set_faults

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::UserWarning")]

ROWS = 2_000


def _push(env: dict[str, str], csv: Path, campaign: str, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", "from ops_instantly.cli import main; main()", "push", "--source", str(csv)]
        + ["--campaign", campaign, "--batch-size", "50", *extra],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _finish(proc: subprocess.Popen[str]) -> str:
    out, _ = proc.communicate(timeout=600)
    assert proc.returncode == 0, out[-3000:]
    return out


def test_two_pushes_of_one_table_to_one_campaign_at_once_add_each_lead_once_with_true_outcomes(
    prefect_harness: None, sandbox: Any, warehouse_location: str, tmp_path: Path
) -> None:
    from prefect.settings import PREFECT_API_URL

    campaign = make_campaign(sandbox, "Pushed twice at once")
    csv = tmp_path / "leads.csv"
    csv.write_text("email,first_name\n" + "".join(f"lead{i}@example.com,L{i}\n" for i in range(ROWS)))
    set_faults(sandbox, latency_ms=100, latency_jitter_ms=50)
    env = {
        **os.environ,
        "INSTANTLY_API_KEY": sandbox.api_key,
        "INSTANTLY_BASE_URL": sandbox.base_url,
        "OPS_WAREHOUSE": warehouse_location,
        "PREFECT_API_URL": str(PREFECT_API_URL.value()),
        "PYTHONPATH": str(REPO_ROOT),
    }
    # The first run sends its 40 bulk adds at 2 a second: it is still sending when the second one starts.
    first = _push({**env, "INSTANTLY_RATE_PER_SECOND": "2"}, csv, campaign)
    deadline = time.monotonic() + 120
    while request_count(sandbox) == 0 and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    second = _push(env, csv, campaign)
    first_out, second_out = _finish(first), _finish(second)

    leads = campaign_leads(sandbox, campaign)
    emails = [lead["email"] for lead in leads]
    assert len(emails) == len(set(emails)) == ROWS  # every lead added, none twice
    runs = query(warehouse_location, "SELECT run_id FROM ops.sync_runs ORDER BY started_at")
    assert len(runs) == 2
    by_run = {
        run_id: dict(
            query(
                warehouse_location,
                "SELECT outcome, count(*) FROM ops.push_results WHERE run_id = ? GROUP BY 1",
                [run_id],
            )
        )
        for (run_id,) in runs
    }
    # The one that got in first created every lead; the other found them all pushed (one outcome per row).
    assert sorted(by_run.values(), key=len) == [{"created": ROWS}, {"unchanged": ROWS}], by_run
    assert request_count(sandbox) == ROWS // 50  # the second run sent no bulk add
    waited = [out for out in (first_out, second_out) if "Another push of ops.leads is running" in out]
    assert len(waited) == 1, (first_out[-2000:], second_out[-2000:])
    creator = next(run_id for run_id, counts in by_run.items() if "created" in counts)
    assert f"run {creator} (pid " in waited[0]  # the waiter named the run it waited for
    open_rows = query(warehouse_location, "SELECT count(*) FROM ops.push_ledger WHERE state <> 'done'")
    assert open_rows == [(0,)]


def test_a_push_that_finds_the_table_busy_with_wait_0_fails_in_one_line_and_sends_nothing(
    prefect_harness: None, sandbox: Any, warehouse_path: Path, tmp_path: Path
) -> None:
    from prefect.settings import PREFECT_API_URL

    from warehouse.db import Warehouse
    from warehouse.push_guard import push_guard

    campaign = make_campaign(sandbox, "Busy")
    csv = tmp_path / "leads.csv"
    csv.write_text("email\n" + "".join(f"busy{i}@example.com\n" for i in range(10)))
    env = {
        **os.environ,
        "INSTANTLY_API_KEY": sandbox.api_key,
        "INSTANTLY_BASE_URL": sandbox.base_url,
        "OPS_WAREHOUSE": str(warehouse_path),
        "PREFECT_API_URL": str(PREFECT_API_URL.value()),
        "PYTHONPATH": str(REPO_ROOT),
    }
    with push_guard(Warehouse(warehouse_path), "leads", run_id="the-scheduled-run", wait=0):
        proc = _push(env, csv, campaign, "--wait", "0")
        out, _ = proc.communicate(timeout=300)
    assert proc.returncode != 0, out
    assert "Another push of ops.leads is running: run the-scheduled-run (pid " in out, out[-2000:]
    assert "Traceback" not in out
    assert request_count(sandbox) == 0 and campaign_leads(sandbox, campaign) == []
