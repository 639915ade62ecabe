"""Commands that run no flow answer without Prefect: lists, shows and checks never import it, and a dry run
never needs its API (PREFECT_API_URL points nowhere here, so any use of it would fail the command)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from ops_instantly._paths import REPO_ROOT
from tests.tasks.push_helpers import make_campaign

# Runs each argv list through the CLI's main() in one process, then reports the exit codes, the output and
# whether Prefect was imported, as one JSON line on the real stdout.
RUNNER = """
import contextlib, io, json, sys
from ops_instantly.cli import main
results = []
for argv in json.loads(sys.argv[1]):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(argv)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    results.append({"argv": argv, "code": code, "out": out.getvalue(), "err": err.getvalue()})
print(json.dumps({"results": results, "prefect_imported": "prefect" in sys.modules}))
"""


def run_commands(commands: list[list[str]], env: dict[str, str]) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", RUNNER, json.dumps(commands)],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def cli_env(sandbox: Any, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "INSTANTLY_", "OPS_"))}
    return env | {
        "INSTANTLY_API_KEY": sandbox.api_key,
        "INSTANTLY_BASE_URL": sandbox.base_url,
        "OPS_WAREHOUSE": str(tmp_path / "warehouse.duckdb"),
        "PREFECT_HOME": str(tmp_path / "prefect-home"),
        "PREFECT_API_URL": "http://127.0.0.1:9/api",  # nothing listens: a command using Prefect's API fails
    }


def test_lists_shows_and_checks_answer_without_importing_prefect(sandbox: Any, tmp_path: Path) -> None:
    make_campaign(sandbox, "Q3 founders")
    csv = tmp_path / "p.csv"  # connect-table refuses a file that does not exist
    csv.write_text("email\na@example.com\n")
    found = run_commands(
        [
            ["--help"],
            ["campaigns", "list"],
            ["campaigns", "show", "Q3 founders"],
            ["campaigns", "validate", "Q3 founders"],
            ["campaigns", "check", "Q3 founders"],
            ["accounts"],
            ["webhooks", "list"],
            ["connect-table", "--table", "prospects", "--source", str(csv), "--campaign", "Q3 founders"],
            ["connections"],
        ],
        cli_env(sandbox, tmp_path),
    )
    codes = {" ".join(r["argv"]): (r["code"], r["err"]) for r in found["results"]}
    # `campaigns check` exits 1, naming what blocks the launch of this bare campaign (no sender, no leads).
    assert codes == {
        "--help": (0, ""),
        "campaigns list": (0, ""),
        "campaigns show Q3 founders": (0, ""),
        "campaigns validate Q3 founders": (0, ""),
        "campaigns check Q3 founders": (1, "error: 2 problem(s) block the launch of 'Q3 founders'\n"),
        "accounts": (0, ""),
        "webhooks list": (0, ""),
        f"connect-table --table prospects --source {csv} --campaign Q3 founders": (0, ""),
        "connections": (0, ""),
    }
    outputs = {" ".join(r["argv"]): r["out"] for r in found["results"]}
    assert "Q3 founders" in outputs["campaigns list"] and "Q3 founders" in outputs["connections"]
    assert "Pre-launch check of 'Q3 founders'" in outputs["campaigns check Q3 founders"]
    assert found["prefect_imported"] is False


def test_a_dry_run_needs_no_prefect_api_and_records_no_run(sandbox: Any, tmp_path: Path) -> None:
    make_campaign(sandbox, "Q3 founders")
    csv = tmp_path / "leads.csv"
    csv.write_text("email,first_name,company\nana@example.com,Ana,Acme\nbo@example.com,Bo,Beta\n")
    found = run_commands(
        [["push", "--source", str(csv), "--campaign", "Q3 founders", "--dry-run"]], cli_env(sandbox, tmp_path)
    )
    (result,) = found["results"]
    assert result["code"] == 0, result["err"]
    assert "Campaigns found: Q3 founders" in result["out"]
    assert "Validation: valid: 2" in result["out"] and "Dry run: nothing was sent." in result["out"]
