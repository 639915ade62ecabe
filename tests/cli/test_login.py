"""`ops-instantly login`: the key is checked against the API, saved in a block, loaded back, never printed."""

from __future__ import annotations

from typing import Any

import pytest

from blocks import InstantlyCredentials
from tests.cli._cli_helpers import assert_one_line_error, run_cli


def test_login_saves_a_block_that_loads_back_and_drives_commands(
    sandbox: Any, prefect_harness: None, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    result = run_cli(
        capsys, "login", "--name", "ws-sandbox", "--api-key", "sandbox-key", "--base-url", sandbox.base_url,
        "--rate-per-second", "20",
    )  # fmt: skip
    assert result.code == 0, result.err
    assert "saved as InstantlyCredentials block 'ws-sandbox'" in result.out
    assert "sandbox-key" not in result.out + result.err

    creds = InstantlyCredentials.load("ws-sandbox")
    assert creds.api_key.get_secret_value() == "sandbox-key"
    assert (creds.base_url, creds.rate_per_second) == (sandbox.base_url, 20)

    # Commands use the block, with no INSTANTLY_* environment.
    monkeypatch.delenv("INSTANTLY_API_KEY", raising=False)
    monkeypatch.delenv("INSTANTLY_BASE_URL", raising=False)
    listed = run_cli(capsys, "campaigns", "list", "--credentials", "ws-sandbox")
    assert listed.code == 0 and "0 campaign(s)" in listed.out


def test_login_reads_the_key_from_the_environment(
    sandbox: Any, prefect_harness: None, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INSTANTLY_API_KEY", "sandbox-key")
    monkeypatch.setenv("INSTANTLY_BASE_URL", sandbox.base_url)
    result = run_cli(capsys, "login", "--name", "from-env")
    assert result.code == 0, result.err
    assert InstantlyCredentials.load("from-env").base_url == sandbox.base_url


@pytest.mark.parametrize(
    ("key", "fragments"),
    [
        ("not-a-real-key", ["rejected the API key", "HTTP 401"]),
        ("sandbox-unpaid-1", ["no active paid plan", "HTTP 402"]),
    ],
)
def test_login_with_a_refused_key_explains_and_saves_nothing(
    sandbox: Any, prefect_harness: None, capsys: pytest.CaptureFixture[str], key: str, fragments: list[str]
) -> None:
    result = run_cli(capsys, "login", "--name", "refused", "--api-key", key, "--base-url", sandbox.base_url)
    assert_one_line_error(result, *fragments)
    assert key not in result.err
    with pytest.raises(ValueError):
        InstantlyCredentials.load("refused")


def test_login_rejects_a_bad_block_name(capsys: pytest.CaptureFixture[str]) -> None:
    assert_one_line_error(
        run_cli(capsys, "login", "--name", "My Workspace", "--api-key", "k"), "Invalid block name"
    )


@pytest.mark.parametrize(
    ("argv", "env", "named"),
    [
        (["--base-url", "https://user:SECRETpw@gw.example/api/v2"], None, "(--base-url)"),
        ([], "https://user:SECRETpw@gw.example/api/v2", "(INSTANTLY_BASE_URL)"),
    ],
)
def test_login_refuses_a_base_url_with_a_password_before_asking_for_the_key(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    argv: list[str],
    env: str | None,
    named: str,
) -> None:
    # A block's base_url shows in plain text in the Prefect UI; no key is needed to know that.
    monkeypatch.delenv("INSTANTLY_API_KEY", raising=False)
    if env:
        monkeypatch.setenv("INSTANTLY_BASE_URL", env)
    result = run_cli(capsys, "login", "--name", "with-password", *argv)
    assert_one_line_error(
        result,
        f"Cannot save https://user:***@gw.example/api/v2 {named} in a block",
        "Prefect UI",
        "HTTPS_PROXY=",
    )
    assert "SECRETpw" not in result.err + result.out
