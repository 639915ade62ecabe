"""What the demo and the warehouse leave next to a warehouse file stays out of `git status`."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    "path",
    ["demo-warehouse.duckdb.lock", "demo-warehouse.duckdb.sync/ab12/part.parquet", "x/warehouse.duckdb.wal"],
)
def test_warehouse_side_files_are_ignored(path: str) -> None:
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("needs a git checkout")
    done = subprocess.run(["git", "check-ignore", "--no-index", "-q", path], cwd=REPO, check=False)
    assert done.returncode == 0, f"{path} is not ignored by .gitignore"
