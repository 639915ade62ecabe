"""The import rules of docs/ARCHITECTURE.md hold: import-linter's contracts (pyproject.toml) and ops_core's own."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_the_import_linter_contracts_are_kept() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [str(lint), "--no-cache"], cwd=REPO, env=env, capture_output=True, text=True, timeout=300
    )
    report = done.stdout[done.stdout.find("Contracts") :] + done.stderr
    assert done.returncode == 0, report
    assert "Contracts: 3 kept, 0 broken." in done.stdout, report


def test_ops_core_imports_only_the_standard_library() -> None:
    outside: list[str] = []
    for path in sorted((REPO / "ops_core").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top not in ("__future__", "ops_core"):
                    outside.append(f"{path.relative_to(REPO)}: {name}")
    assert outside == []
