"""Real-world lead tables through the push flow: the sandbox over HTTP, a real DuckDB file, real Prefect."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ops_instantly._paths import REPO_ROOT
from tests.tasks.push_helpers import make_campaign, request_count

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::UserWarning")]


def test_an_error_exit_after_duckdb_ran_prints_exactly_one_line_on_stderr(
    prefect_harness: None, sandbox: Any, tmp_path: Path
) -> None:
    # duckdb 2.0.0 printed ~44 "nanobind: leaked ... instances" lines at interpreter exit: only a real
    # process shows them, so this runs the CLI as a user would.
    from prefect.settings import PREFECT_API_URL

    make_campaign(sandbox, "Real")
    broken = tmp_path / "broken.parquet"
    broken.write_text("not a parquet file\n")
    env = {
        **os.environ,
        "INSTANTLY_API_KEY": sandbox.api_key,
        "INSTANTLY_BASE_URL": sandbox.base_url,
        "OPS_WAREHOUSE": str(tmp_path / "warehouse.duckdb"),
        "PREFECT_API_URL": str(PREFECT_API_URL.value()),
        "PYTHONPATH": str(REPO_ROOT),
    }
    code = "from ops_instantly.cli import main; main()"
    argv = [sys.executable, "-c", code, "push", "--source", str(broken), "--campaign", "Real"]
    done = subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 1, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr[-3000:]
    assert lines[0].startswith("error: Cannot read") and "broken.parquet" in lines[0]
    assert request_count(sandbox) == 0
