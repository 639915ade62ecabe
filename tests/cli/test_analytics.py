"""The CLI turns Prefect's analytics off before Prefect is imported, for every API it starts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

PROBE = """
import json, sys
import ops_instantly.cli  # the CLI's entry module, as `ops-instantly` loads it
from prefect._internal.analytics import is_telemetry_enabled
from prefect.settings import get_current_settings
import os

# The environment prefect.server.api.server.SubprocessASGIServer gives the ephemeral API's process.
child_env = {**os.environ, **get_current_settings().to_environment_variables(exclude_unset=True)}
print(json.dumps({
    "server_analytics": get_current_settings().server.analytics_enabled,
    "sdk_analytics": is_telemetry_enabled(),
    "child_env": {k: str(child_env.get(k)).lower() for k in ("PREFECT_SERVER_ANALYTICS_ENABLED", "DO_NOT_TRACK")},
}))
"""


def _clean_env(tmp_path: Path) -> dict[str, str]:
    from prefect._internal.analytics.ci_detection import CI_ENV_VARS

    drop = {"PREFECT_SERVER_ANALYTICS_ENABLED", "DO_NOT_TRACK", "PREFECT_API_URL", *CI_ENV_VARS}
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env["PREFECT_HOME"] = str(tmp_path / "prefect-home")
    return env


def test_prefect_analytics_default_on_without_the_cli(tmp_path: Path) -> None:
    # The control: with the same clean environment, plain Prefect would report usage.
    probe = "import json; from prefect.settings import get_current_settings; " + (
        "print(json.dumps(get_current_settings().server.analytics_enabled))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], env=_clean_env(tmp_path), cwd=REPO, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.strip().splitlines()[-1]) is True


def test_the_cli_turns_off_server_and_sdk_analytics_before_prefect_loads(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-c", PROBE], env=_clean_env(tmp_path), cwd=REPO, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert seen == {
        "server_analytics": False,
        "sdk_analytics": False,
        "child_env": {"PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1"},
    }
