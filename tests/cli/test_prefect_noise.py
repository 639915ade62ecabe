"""Commands against a real Prefect server print only their own lines (no EventsWorker progress warning)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.prefect_server import prefect_server

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_a_command_against_a_prefect_server_prints_one_line_and_an_error_stays_one_line(
    sandbox, tmp_path: Path
) -> None:
    with prefect_server(tmp_path / "prefect-home") as server_env:
        env = {k: v for k, v in server_env.items() if k != "OPS_CREDENTIALS_BLOCK"}
        env.update(INSTANTLY_API_KEY=sandbox.api_key, INSTANTLY_BASE_URL=sandbox.base_url)
        for args, code in (
            (["campaigns", "create", "--file", "examples/campaign.yaml"], 0),
            (["campaigns", "create", "--file", "examples/campaign.yaml"], 1),  # the name is taken
        ):
            done = subprocess.run(
                [str(REPO / ".venv/bin/ops-instantly"), *args],
                cwd=REPO, env=env, capture_output=True, text=True, timeout=180, check=False,
            )  # fmt: skip
            assert done.returncode == code, done.stderr
            assert "EventsWorker" not in done.stderr, done.stderr
            lines = (done.stdout + done.stderr).strip().splitlines()
            assert len(lines) == 1, lines


def test_the_events_worker_progress_warning_is_silenced_for_cli_commands() -> None:
    # The warning depends on timing (events still queued at exit), so the test above cannot force it; this pins
    # the mechanism: Prefect logs it on the logger named after its EventsWorker class.
    import logging

    from prefect.events.worker import EventsWorker

    import ops_instantly.cli  # noqa: F401  (sets the level on import)

    assert not logging.getLogger(EventsWorker.__name__).isEnabledFor(logging.WARNING)
    assert logging.getLogger(EventsWorker.__name__).isEnabledFor(logging.ERROR)
