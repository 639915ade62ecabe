"""A credentials block that names a missing global concurrency limit fails in one line, before any request."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import SecretStr

from blocks import InstantlyCredentials
from ops_core.errors import OpsError
from tests.cli._cli_helpers import assert_one_line_error, run_cli


def test_a_missing_global_limit_is_one_line_naming_it_before_any_request(
    prefect_harness: None, sandbox: Any
) -> None:
    creds = InstantlyCredentials(
        api_key=SecretStr(sandbox.api_key), base_url=sandbox.base_url, global_rate_limit="instantly-missing"
    )
    before = sandbox.stats["per_path"]
    with pytest.raises(OpsError) as err:
        creds.get_client()
    message = str(err.value)
    assert "No Prefect global concurrency limit named 'instantly-missing'" in message
    assert "prefect gcl create instantly-missing" in message
    assert "\n" not in message
    assert sandbox.stats["per_path"] == before  # no request reached the API


def test_the_cli_reports_a_missing_global_limit_in_one_line(
    prefect_harness: None, sandbox: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    InstantlyCredentials(
        api_key=SecretStr(sandbox.api_key), base_url=sandbox.base_url, global_rate_limit="gcl-missing"
    ).save("gcl-missing", overwrite=True)
    assert_one_line_error(
        run_cli(capsys, "campaigns", "list", "--credentials", "gcl-missing"),
        "No Prefect global concurrency limit named 'gcl-missing'",
    )
